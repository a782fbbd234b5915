// Package rollout is the autopilot: a controller that moves the rollout plan's
// steps to the candidate weight by weight and rolls them back by itself, on the
// gate's verdicts.
//
// Each step's new route prefixes go through a ladder of weights (by default 1,
// 10, 50 and 100 percent). Every interval the controller asks the gate
// (report.Judge, the confidence sequences of `parity gate`) about the current
// step and every earlier one, on the evidence of their served and mirrored
// requests: a pass after the least time at a weight moves to the next weight,
// after 100% to the next step and after the last step to done; an inconclusive
// verdict holds; a failure repeated for the threshold's number of evaluations
// rolls the failing steps and the current one back to weight 0 and stops. A
// person pauses, resumes, promotes and aborts through the same controller.
//
// The controller's output is a Cutover — the prefixes at 100% and the weights
// of the others — handed to an Applier: the proxy's live configuration in a
// single instance, the config file every replica reloads in a fleet. Its state
// (step, weights, events) is written to a file after each decision, so that a
// restarted controller continues where it was and never promotes again what was
// rolled back until a person resumes it. Every decision is an Event: logged,
// kept in the state, served as JSON, counted in metrics and sent to an optional
// webhook.
//
// The package knows nothing of the proxy: it reads snapshots through a Source
// and writes through an Applier.
package rollout
