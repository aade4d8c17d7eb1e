package domain

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/ubgo/ubgo/internal/jsonc"
	"github.com/ubgo/ubgo/schemas"
)

// validateSchema checks every merged entity against the entity schema. Unknown keys are
// warnings: real UnityBase metadata carries keys no schema lists.
func (l *loader) validateSchema(domainJSON map[string]any) {
	names := sortedKeys(domainJSON)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(names)/64))
	next := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				meta := metaOf(domainJSON[name])
				errs, warns := schemas.ValidateEntity(meta)
				for _, is := range errs {
					l.addErr(l.locate(name, meta, is.Pointer, is.Message))
				}
				for _, is := range warns {
					msg := is.Message
					if len(is.Unknown) > 0 {
						msg = fmt.Sprintf("unknown key %s (ignored)", quoteList(is.Unknown))
					}
					l.addWarn(l.locate(name, meta, is.Pointer, msg))
				}
			}
		}()
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// locate turns a JSON pointer inside an entity's merged metadata into an *Error that names the
// file, line and column the value came from. Later models win a merge, so their files are
// searched first; array items merged by name are matched by name, not by index.
func (l *loader) locate(entity string, merged map[string]any, ptr, msg string) *Error {
	e := &Error{Entity: entity, Pointer: ptr, Msg: msg}
	src := l.entities[entity]
	if src == nil {
		e.Msg += " (in metadata created by a transformation hook)"
		return e
	}
	tokens := jsonc.SplitPointer(ptr)
	bestDepth, bestFile, bestPtr := -1, (*sourceFile)(nil), ""
	for i := len(src.metas) - 1; i >= 0; i-- {
		f := src.metas[i]
		depth, fptr := translate(merged, f.doc, tokens)
		if depth > bestDepth {
			bestDepth, bestFile, bestPtr = depth, f, fptr
		}
		if depth == len(tokens) {
			break
		}
	}
	if bestFile == nil {
		return e
	}
	off, _ := jsonc.Locate(bestFile.raw, bestPtr)
	e.File = bestFile.display
	e.Line, e.Col = jsonc.Position(bestFile.raw, off)
	if bestDepth < len(tokens) && l.hookRan && !strings.Contains(msg, "missing") {
		e.Msg += " (the value may come from a transformation hook)"
	}
	return e
}

// translate follows tokens through the merged document and the same path in one source
// document. It returns how many tokens the source document contains and the pointer of the
// deepest one in that document.
func translate(merged, doc any, tokens []string) (int, string) {
	var fileTokens []string
	for depth, tok := range tokens {
		switch m := merged.(type) {
		case map[string]any:
			d, ok := doc.(map[string]any)
			if !ok {
				return depth, jsonc.JoinPointer(fileTokens...)
			}
			dv, ok := d[tok]
			if !ok {
				return depth, jsonc.JoinPointer(fileTokens...)
			}
			merged, doc = m[tok], dv
			fileTokens = append(fileTokens, tok)
		case []any:
			d, ok := doc.([]any)
			idx, err := strconv.Atoi(tok)
			if !ok || err != nil || idx < 0 || idx >= len(m) {
				return depth, jsonc.JoinPointer(fileTokens...)
			}
			fi := idx
			if item, ok := m[idx].(map[string]any); ok {
				if name, ok := item["name"].(string); ok {
					fi = -1
					for j, x := range d {
						if xm, ok := x.(map[string]any); ok && xm["name"] == name {
							fi = j
							break
						}
					}
				}
			}
			if fi < 0 || fi >= len(d) {
				return depth, jsonc.JoinPointer(fileTokens...)
			}
			merged, doc = m[idx], d[fi]
			fileTokens = append(fileTokens, strconv.Itoa(fi))
		default:
			return depth, jsonc.JoinPointer(fileTokens...)
		}
	}
	return len(tokens), jsonc.JoinPointer(fileTokens...)
}
