package diff

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Set-Cookie is compared cookie by cookie, the way a browser stores them: each line is
// parsed (net/http's ParseSetCookie: attributes in any order, names in any case), and
// the cookies of the two responses are matched by name. Differences are reported per
// cookie and per attribute, at paths that Ignore takes:
//
//	header.Set-Cookie.<name>            the cookie is missing or extra (or, sent twice
//	                                    under one name, the cookies differ)
//	header.Set-Cookie.<name>.Value      its value differs (shown redacted)
//	header.Set-Cookie.<name>.<Attribute>  Domain, Path, Expires, Max-Age, Secure,
//	                                    HttpOnly, SameSite, Partitioned, Priority, ...
//
// An attribute compares as a client reads it: Domain without a leading dot and in any
// case, SameSite in any case, a value a client ignores (SameSite=maybe, an Expires that
// is not a date) as absent, with a note. Expires is an absolute time computed from each
// instance's clock, so it compares as the lifetime it gives — Expires less the
// response's Date, equal within cookieClockSlack — when both responses have a Date,
// and by presence otherwise. A line that does not parse as a cookie is compared as
// text at header.Set-Cookie. Losing HttpOnly, Secure or SameSite, or a wider Domain or
// Path, is a security regression (security.go).

// cookieClockSlack is how far two lifetimes computed from Expires and Date may differ
// and still be one: both are whole seconds, stamped one after the other.
const cookieClockSlack = 2 * time.Second

// cookieAttrNames spell the attributes of RFC 6265 and its successors in paths.
var cookieAttrNames = map[string]string{
	"domain": "Domain", "path": "Path", "expires": "Expires", "max-age": "Max-Age",
	"secure": "Secure", "httponly": "HttpOnly", "samesite": "SameSite",
	"partitioned": "Partitioned", "priority": "Priority", "value": "Value",
}

// cookieAttrName is the spelling of a cookie attribute in a path, whatever its case.
func cookieAttrName(name string) string {
	if n, ok := cookieAttrNames[strings.ToLower(name)]; ok {
		return n
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// cookieAttr is one attribute of a cookie as a client reads it.
type cookieAttr struct {
	show string // as rendered in a Difference
	cmp  string // as compared
}

// setCookie is one Set-Cookie line as a client reads it.
type setCookie struct {
	line    string
	name    string
	value   string
	attrs   map[string]cookieAttr // by path spelling; the value is not among them
	expires time.Time             // a valid Expires, else zero
	ignored []string              // attributes present with a value a client ignores
}

// parseSetCookie parses one Set-Cookie line; false when it is not a cookie.
func parseSetCookie(line string) (*setCookie, bool) {
	hc, err := http.ParseSetCookie(line)
	if err != nil {
		return nil, false
	}
	c := &setCookie{line: strings.TrimSpace(line), name: hc.Name, value: hc.Value, attrs: map[string]cookieAttr{}}
	flag := func(name string, on bool) {
		if on {
			c.attrs[name] = cookieAttr{show: name}
		}
	}
	flag("Secure", hc.Secure)
	flag("HttpOnly", hc.HttpOnly)
	flag("Partitioned", hc.Partitioned)
	if hc.Domain != "" {
		c.attrs["Domain"] = cookieAttr{show: hc.Domain, cmp: strings.ToLower(strings.TrimPrefix(hc.Domain, "."))}
	}
	if hc.Path != "" {
		c.attrs["Path"] = cookieAttr{show: hc.Path, cmp: hc.Path}
	}
	switch {
	case hc.MaxAge > 0:
		c.attrs["Max-Age"] = cookieAttr{show: strconv.Itoa(hc.MaxAge), cmp: strconv.Itoa(hc.MaxAge)}
	case hc.MaxAge < 0:
		c.attrs["Max-Age"] = cookieAttr{show: "0", cmp: "0"}
	}
	if !hc.Expires.IsZero() {
		c.expires = hc.Expires
		c.attrs["Expires"] = cookieAttr{show: hc.RawExpires}
	}
	switch hc.SameSite {
	case http.SameSiteLaxMode:
		c.attrs["SameSite"] = cookieAttr{show: "Lax", cmp: "lax"}
	case http.SameSiteStrictMode:
		c.attrs["SameSite"] = cookieAttr{show: "Strict", cmp: "strict"}
	case http.SameSiteNoneMode:
		c.attrs["SameSite"] = cookieAttr{show: "None", cmp: "none"}
	case http.SameSiteDefaultMode:
		c.ignored = append(c.ignored, "SameSite")
	}
	for _, u := range hc.Unparsed {
		k, v, _ := strings.Cut(u, "=")
		name := cookieAttrName(strings.TrimSpace(k))
		switch name {
		case "Domain", "Path", "Expires", "Max-Age", "Secure", "HttpOnly", "SameSite", "Partitioned":
			c.ignored = append(c.ignored, name) // a known attribute whose value a client ignores
		case "Value":
			// unknown to clients, and the cookie's own value owns the name
		default:
			v = strings.TrimSpace(v)
			c.attrs[name] = cookieAttr{show: strings.TrimSpace(u), cmp: v}
		}
	}
	return c, true
}

// cookieSide is one response's Set-Cookie lines, parsed.
type cookieSide struct {
	byName   map[string][]*setCookie
	unparsed []string // trimmed lines that are not cookies
	date     time.Time
	hasDate  bool
}

func parseCookieSide(r *Response, lines []string) cookieSide {
	s := cookieSide{byName: map[string][]*setCookie{}}
	for _, l := range lines {
		if c, ok := parseSetCookie(l); ok {
			s.byName[c.name] = append(s.byName[c.name], c)
		} else {
			s.unparsed = append(s.unparsed, strings.TrimSpace(l))
		}
	}
	if d := headerValues(r.Header, "Date"); len(d) > 0 {
		if t, err := http.ParseTime(strings.TrimSpace(d[0])); err == nil {
			s.date, s.hasDate = t, true
		}
	}
	return s
}

// cookies compares the Set-Cookie lines of both responses.
func (c *comparison) cookies(vp, vq []string) {
	p, q := parseCookieSide(c.primary, vp), parseCookieSide(c.candidate, vq)
	names := make([]string, 0, len(p.byName)+len(q.byName))
	for n := range p.byName {
		names = append(names, n)
	}
	for n := range q.byName {
		if _, ok := p.byName[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if c.r.cookieIgnored(n, "") {
			continue
		}
		cp, cq := p.byName[n], q.byName[n]
		switch {
		case len(cq) == 0:
			c.addCookieDiff(n, "", Missing, renderCookies(cp, c.r.redactor), "", "", "")
		case len(cp) == 0:
			c.addCookieDiff(n, "", Extra, "", renderCookies(cq, c.r.redactor), "", "")
		case len(cp) > 1 || len(cq) > 1:
			if !slices.Equal(cookieForms(cp, &p), cookieForms(cq, &q)) {
				c.addCookieDiff(n, "", Changed, renderCookies(cp, c.r.redactor), renderCookies(cq, c.r.redactor), "sent more than once under this name", "")
			}
		default:
			c.cookie(cp[0], &p, cq[0], &q)
		}
	}
	if !slices.Equal(sortedCopy(p.unparsed), sortedCopy(q.unparsed)) {
		kind := Changed
		switch {
		case len(q.unparsed) == 0:
			kind = Missing
		case len(p.unparsed) == 0:
			kind = Extra
		}
		c.out = append(c.out, Difference{Path: "header.Set-Cookie", Pattern: "header.Set-Cookie", Kind: kind,
			Primary: renderHeader("Set-Cookie", p.unparsed, c.r.redactor), Candidate: renderHeader("Set-Cookie", q.unparsed, c.r.redactor),
			Note: "Set-Cookie lines that are not cookies"})
	}
}

// cookie compares one cookie sent once by each side, value and attributes.
func (c *comparison) cookie(a *setCookie, as *cookieSide, b *setCookie, bs *cookieSide) {
	if a.value != b.value && !c.r.cookieIgnored(a.name, "Value") {
		c.addCookieDiff(a.name, "Value", Changed, c.r.redactor.Mark(a.value), c.r.redactor.Mark(b.value), "", "")
	}
	names := make([]string, 0, len(a.attrs)+len(b.attrs)+len(a.ignored)+len(b.ignored))
	for n := range a.attrs {
		names = append(names, n)
	}
	for n := range b.attrs {
		names = append(names, n)
	}
	names = append(append(names, a.ignored...), b.ignored...)
	slices.Sort(names)
	names = slices.Compact(names)
	req := c.request()
	for _, n := range names {
		if c.r.cookieIgnored(a.name, n) {
			continue
		}
		x, okx := a.attrs[n]
		y, oky := b.attrs[n]
		note := ignoredNote(n, a, okx, "primary") + ignoredNote(n, b, oky, "candidate")
		var kind Kind
		switch {
		case !okx && !oky:
			if note == "" || slices.Contains(a.ignored, n) == slices.Contains(b.ignored, n) {
				continue
			}
			kind = Changed
		case !oky:
			kind = Missing
		case !okx:
			kind = Extra
		case n == "Expires":
			if sameLifetime(a.expires, as, b.expires, bs) {
				continue
			}
			kind, note = Changed, "the cookie's lifetime (Expires less the response's Date) differs"
		case x.cmp == y.cmp:
			continue
		default:
			kind = Changed
		}
		sec := cookieSecurity(n, a, b, req)
		c.addCookieDiff(a.name, n, kind, x.show, y.show, note, sec)
	}
}

// ignoredNote says that side's attribute n is present with a value a client ignores.
func ignoredNote(n string, sc *setCookie, present bool, side string) string {
	if present || !slices.Contains(sc.ignored, n) {
		return ""
	}
	return "the " + side + "'s " + n + " has a value a client ignores; "
}

// sameLifetime reports whether two valid Expires give the same lifetime, each counted
// from its response's Date; without both Dates, presence is all that compares.
func sameLifetime(a time.Time, as *cookieSide, b time.Time, bs *cookieSide) bool {
	if !as.hasDate || !bs.hasDate {
		return true
	}
	d := a.Sub(as.date) - b.Sub(bs.date)
	return d <= cookieClockSlack && d >= -cookieClockSlack
}

// addCookieDiff records a difference at header.Set-Cookie.<name>[.<attr>].
func (c *comparison) addCookieDiff(name, attr string, kind Kind, primary, candidate, note string, sec Security) {
	path := "header.Set-Cookie." + escapeComponent(name)
	if attr != "" {
		path += "." + escapeComponent(attr)
	}
	note = strings.TrimSuffix(note, "; ")
	c.out = append(c.out, Difference{Path: path, Pattern: path, Kind: kind, Primary: truncate(primary, len(primary)),
		Candidate: truncate(candidate, len(candidate)), Note: note, Security: sec})
}

// renderCookies shows whole Set-Cookie lines, redacted by red.
func renderCookies(cs []*setCookie, red *Redactor) string {
	lines := make([]string, len(cs))
	for i, c := range cs {
		lines[i] = c.line
	}
	return renderHeader("Set-Cookie", lines, red)
}

// cookieForms are the cookies sent under one name, each as one comparable string,
// sorted.
func cookieForms(cs []*setCookie, s *cookieSide) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		keys := make([]string, 0, len(c.attrs))
		for k := range c.attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString(c.value)
		for _, k := range keys {
			b.WriteString("; " + k + "=" + c.attrs[k].cmp)
			if k == "Expires" && s.hasDate {
				b.WriteString(c.expires.Sub(s.date).Round(time.Minute).String())
			}
		}
		out[i] = b.String()
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// effectiveCookiePath is the path a cookie applies to: its Path attribute, or the
// default path of the request URL (RFC 6265 §5.1.4); false when neither is known.
func effectiveCookiePath(c *setCookie, u *url.URL) (string, bool) {
	if a, ok := c.attrs["Path"]; ok && strings.HasPrefix(a.cmp, "/") {
		return a.cmp, true
	}
	if u == nil {
		return "", false
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		return "/", true
	}
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/", true
	}
	return p[:i], true
}
