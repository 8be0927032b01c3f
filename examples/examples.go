// Package examples holds the example files of the README, embedded so that
// a fresh console can load the example organisation tree.
package examples

import _ "embed"

// OrgsName is the example tree's file name, which names its format.
const OrgsName = "orgs.yaml"

// Orgs is the example organisation tree (examples/orgs.yaml).
//
//go:embed orgs.yaml
var Orgs []byte
