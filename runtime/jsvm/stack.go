package jsvm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// Inside a runtime every model file is named "/<model>/<path in the model>": the name
// is what goja prints in stacks, and it maps back to the model and to the file as the user
// knows it (Program.display). Two models may have files with the same relative path.

func modulePath(model, rel string) string { return "/" + model + "/" + rel }

// splitModulePath is the inverse of modulePath; ok is false for names that belong to no
// model ("<native>", the prelude).
func (p *Program) splitModulePath(name string) (m *jsModel, rel string, ok bool) {
	rest, found := strings.CutPrefix(name, "/")
	if !found {
		return nil, "", false
	}
	model, rel, _ := strings.Cut(rest, "/")
	m, ok = p.byName[model]
	return m, rel, ok
}

// The wrapper every CommonJS module is compiled in. It starts on the first line of the
// user's source, so only positions on line 1 are shifted (by its length); prepending a
// line instead would make every line number a script sees in err.stack off by one.
const (
	moduleWrapperStart = "(function (exports, require, module, __filename, __dirname) {"
	moduleWrapperEnd   = "\n})"
)

// userPosition maps a position in a wrapped module to the user's file.
func userPosition(line, col int) (int, int) {
	if line == 1 {
		col = max(col-len(moduleWrapperStart), 1)
	}
	return line, col
}

// maxStackFrames bounds the stack text: a stack overflow has thousands of identical frames.
const maxStackFrames = 30

// locate points e at the innermost frame that belongs to a model file.
func (p *Program) locate(e *Error, frames []goja.StackFrame) {
	for _, fr := range frames {
		if m, rel, ok := p.splitModulePath(fr.SrcName()); ok {
			pos := fr.Position()
			e.Model, e.File = m.name, m.display(rel)
			e.Line, e.Column = userPosition(pos.Line, pos.Column)
			return
		}
	}
}

// formatStack renders frames like Node ("    at fn (file:line:col)") with model files
// shown as the user knows them.
func (p *Program) formatStack(frames []goja.StackFrame) string {
	var b strings.Builder
	for i, fr := range frames {
		if i == maxStackFrames {
			fmt.Fprintf(&b, "    ... %d more frames\n", len(frames)-i)
			break
		}
		name := fr.FuncName()
		src := fr.SrcName()
		if src == preludeName {
			continue // ubgo's own JavaScript (UBAbort's constructor, emit): noise for users
		}
		if src == "<native>" {
			// Go functions are named after their Go symbol; keep the last part.
			if j := strings.LastIndexByte(name, '.'); j >= 0 && strings.ContainsAny(name, "/()") {
				name = strings.TrimSuffix(name[j+1:], "-fm")
			}
			if name == "" || name == "<native>" {
				b.WriteString("    at <native>\n")
			} else {
				b.WriteString("    at " + name + " (native)\n")
			}
			continue
		}
		pos := fr.Position()
		line, col := pos.Line, pos.Column
		if m, rel, ok := p.splitModulePath(src); ok {
			src = m.display(rel)
			line, col = userPosition(line, col)
		}
		loc := src + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col)
		if name == "" {
			b.WriteString("    at " + loc + "\n")
		} else {
			b.WriteString("    at " + name + " (" + loc + ")\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// syntaxError converts a parse or compile error of a model file into an *Error pointing
// at the position in that file, or returns nil for other errors.
func (p *Program) syntaxError(err error) *Error {
	var file, msg string
	var line, col int
	if el, ok := errors.AsType[parser.ErrorList](err); ok && len(el) > 0 {
		file, line, col, msg = el[0].Position.Filename, el[0].Position.Line, el[0].Position.Column, "SyntaxError: "+el[0].Message
	} else if pe, ok := errors.AsType[*parser.Error](err); ok {
		file, line, col, msg = pe.Position.Filename, pe.Position.Line, pe.Position.Column, "SyntaxError: "+pe.Message
	} else if ce, ok := errors.AsType[*goja.CompilerSyntaxError](err); ok {
		msg = "SyntaxError: " + ce.Message
		file, line, col = compilerPosition(&ce.CompilerError)
	} else if ce, ok := errors.AsType[*goja.CompilerReferenceError](err); ok {
		msg = "ReferenceError: " + ce.Message
		file, line, col = compilerPosition(&ce.CompilerError)
	} else {
		return nil
	}
	e := internalError("%s", msg)
	e.cause = err
	if m, rel, ok := p.splitModulePath(file); ok {
		e.Model, e.File = m.name, m.display(rel)
		e.Line, e.Column = userPosition(line, col)
	}
	return e
}

func compilerPosition(ce *goja.CompilerError) (file string, line, col int) {
	if ce.File == nil {
		return "", 0, 0
	}
	pos := ce.File.Position(ce.Offset)
	return pos.Filename, pos.Line, pos.Column
}
