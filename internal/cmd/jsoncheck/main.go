// Command jsoncheck reads JSON on standard input and checks that a top-level array key has at
// least -min items; CI uses it to check the binary's JSON output without extra tools.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

func main() {
	key := flag.String("path", "", "top-level `key` whose value must be an array")
	minItems := flag.Int("min", 1, "minimum number of items")
	flag.Parse()
	var v map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&v); err != nil {
		fmt.Fprintln(os.Stderr, "jsoncheck: invalid JSON:", err)
		os.Exit(1)
	}
	items, ok := v[*key].([]any)
	if !ok || len(items) < *minItems {
		fmt.Fprintf(os.Stderr, "jsoncheck: %q has %d items, want at least %d\n", *key, len(items), *minItems)
		os.Exit(1)
	}
	fmt.Printf("jsoncheck: %q has %d items\n", *key, len(items))
}
