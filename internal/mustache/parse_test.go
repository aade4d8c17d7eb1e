package mustache

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	toks, err := Parse("a {{#s}}\n  x {{v}}{{{r}}}\n{{/s}}\n{{>p}}", DefaultTags)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var dump func([]Token)
	dump = func(ts []Token) {
		for _, tk := range ts {
			b.WriteString(string(rune(tk.Kind)) + ":" + tk.Value + ";")
			if tk.Kind == Section {
				b.WriteString("(")
				dump(tk.Children)
				b.WriteString(")")
			}
		}
	}
	dump(toks)
	// Text precedes {{#s}} on its line, so that line keeps its newline; {{/s}} stands
	// alone on its line, which therefore disappears.
	if got, want := b.String(), "t:a ;#:s;(t:\n  x ;n:v;&:r;t:\n;)>:p;"; got != want {
		t.Errorf("tokens %s, want %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for tmpl, want := range map[string]string{
		"{{a":            "Unclosed tag at 3",
		"{{#a}}":         `Unclosed section "a" at 6`,
		"{{/a}}":         `Unopened section "a" at 0`,
		"{{#a}}{{/b}}":   `Unclosed section "a" at 6`,
		"{{=x=}}":        "Invalid tags: x",
		"{{=<% %>=}}<%a": "Unclosed tag at 14",
	} {
		_, err := Parse(tmpl, DefaultTags)
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", tmpl, err, want)
		}
	}
}

// FuzzParse: no template makes the parser panic, and section offsets always lie inside
// the template in order (lambdas slice the template with them).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "{{a}}", "{{#a}}x{{/a}}", "{{=<% %>=}}<%a%>", " {{>p}}\n", "{{{a}}}{{&b}}{{!c}}", "{{#a}}\n{{^b}}\r\n{{/b}}{{/a}}", "\u00a0{{ x }}\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := Parse(s, DefaultTags)
		if err != nil {
			return
		}
		var check func([]Token)
		check = func(ts []Token) {
			for _, tk := range ts {
				if tk.Start < 0 || tk.Start > tk.End || tk.End > len(s) {
					t.Fatalf("token %+v out of %d bytes", tk, len(s))
				}
				if tk.Kind == Section || tk.Kind == Inverted {
					if tk.SectionEnd < tk.End || tk.SectionEnd > len(s) {
						t.Fatalf("section %+v out of %d bytes", tk, len(s))
					}
					_ = s[tk.End:tk.SectionEnd]
					check(tk.Children)
				}
			}
		}
		check(toks)
	})
}
