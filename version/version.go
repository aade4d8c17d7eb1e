// Package version holds ubgo's own version and the UnityBase version it is compatible with.
//
// Version identifies the ubgo build itself (reported by `ubgo version`). UBCompat is the UnityBase
// server version whose wire protocol, configuration and metadata formats ubgo implements: a model
// whose package.json declares `"engines": {"ub": ">=x.y.z"}` with x.y.z newer than UBCompat is
// refused, and clients that ask for the server version are told UBCompat.
package version

// Version is ubgo's own version.
const Version = "0.1.0-dev"

// UBCompat is the UnityBase version ubgo declares compatibility with.
const UBCompat = "5.23.15"
