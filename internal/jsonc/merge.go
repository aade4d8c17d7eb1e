package jsonc

// Merge merges src into dst the way UnityBase merges metadata and partial configs
// (lodash merge with the "named collections" customizer):
//   - objects are merged key by key, recursively; src wins for scalars;
//   - two arrays whose items are all objects carrying a string "name" are merged item by item by
//     name: a matching item is merged recursively, an unknown one is appended;
//   - other arrays are merged index by index (lodash semantics), src items winning;
//   - a src value of nil (JSON null) replaces the dst value; lodash skips only undefined.
//
// Merge mutates and returns dst when both are objects; values taken from src are deep-copied, so
// later changes of the result never reach src.
func Merge(dst, src any) any {
	switch s := src.(type) {
	case map[string]any:
		d, ok := dst.(map[string]any)
		if !ok {
			return Clone(s)
		}
		for k, sv := range s {
			if dv, exists := d[k]; exists {
				d[k] = Merge(dv, sv)
			} else {
				d[k] = Clone(sv)
			}
		}
		return d
	case []any:
		d, ok := dst.([]any)
		if !ok {
			return Clone(s)
		}
		if IsNamedCollection(d) && IsNamedCollection(s) {
			return mergeNamed(d, s)
		}
		for i, sv := range s {
			if i < len(d) {
				d[i] = Merge(d[i], sv)
			} else {
				d = append(d, Clone(sv))
			}
		}
		return d
	default:
		return src
	}
}

func mergeNamed(d, s []any) []any {
	index := make(map[string]int, len(d))
	for i, item := range d {
		index[item.(map[string]any)["name"].(string)] = i
	}
	for _, item := range s {
		name := item.(map[string]any)["name"].(string)
		if i, ok := index[name]; ok {
			d[i] = Merge(d[i], item)
		} else {
			index[name] = len(d)
			d = append(d, Clone(item))
		}
	}
	return d
}

// IsNamedCollection reports whether a is a non-empty array of objects that all have a string "name".
func IsNamedCollection(a []any) bool {
	if len(a) == 0 {
		return false
	}
	for _, item := range a {
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return true
}

// Clone deep-copies a plain JSON value.
func Clone(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = Clone(x)
		}
		return m
	case []any:
		a := make([]any, len(c))
		for i, x := range c {
			a[i] = Clone(x)
		}
		return a
	default:
		return v
	}
}
