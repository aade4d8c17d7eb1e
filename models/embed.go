// Package models holds the models that are compiled into the ubgo binary.
//
// Each built-in model is a folder laid out exactly like an application model
// on disk (package.json, *.meta files, meta_locale/*.meta.<lang>), so the
// metadata loader treats it the same way. The contract is:
//
//   - Builtin returns the model as an fs.FS rooted at the model folder, so
//     "package.json" and "uba_user.meta" are top-level names;
//   - the key passed to Builtin is the model name from the model's
//     package.json config.ubmodel.name ("UB", "UBA"), matched exactly;
//   - BuiltinNames lists the models in the order they must be loaded (a later
//     model may reference and override entities of an earlier one);
//   - the embedded files are read-only and identical for every call.
//
// An application refers to a built-in model by a domain.models item that has
// a name and no path, for example {"name": "UBA"}.
package models

import (
	"embed"
	"io/fs"
)

//go:embed all:ub all:uba
var files embed.FS

// builtins maps a model name to its folder inside files, in load order.
var builtins = []struct {
	name, dir string
}{
	{"UB", "ub"},
	{"UBA", "uba"},
}

// Builtin returns the built-in model with the given name ("UB", "UBA") as a file system rooted at the model folder.
func Builtin(name string) (fs.FS, bool) {
	for _, b := range builtins {
		if b.name == name {
			sub, err := fs.Sub(files, b.dir)
			if err != nil {
				return nil, false
			}
			return sub, true
		}
	}
	return nil, false
}

// BuiltinNames lists the built-in models in their canonical load order.
func BuiltinNames() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return names
}
