package rules

import "fmt"

// checkAccept validates the accept: entries, each error naming the entry's file
// and line: the field at fault, or a missing one (an acceptance without an
// owner or a date is no acceptance), a route key or path no report could show.
func (c *Config) checkAccept() error {
	for i, a := range c.Accept {
		field, err := a.Check()
		if err == nil {
			continue
		}
		key := fmt.Sprintf("accept[%d]", i)
		fk := key + "." + field
		if c.src != nil {
			if p, ok := c.src.pos[fk]; ok && p.value != "" {
				return c.fieldError(fk, p.value, "%v", err)
			}
		}
		return c.fieldError(key, "", "%s %v", field, err)
	}
	return nil
}
