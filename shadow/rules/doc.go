// Package rules is parity's routing side: the configuration file and the
// environment that override it (Config), the per-request routing decision of the
// cutover guide (Router, Decision: who serves, whether to mirror, under which
// comparison rules, and why not), and the live configuration that reloads without
// a restart (Live).
//
// It owns the decision, never its execution: it sends nothing, reads no body and
// never changes the request it is asked about. What a path means (canonical form,
// prefixes, the auth rule, templates, route keys) it asks of report/route.
package rules
