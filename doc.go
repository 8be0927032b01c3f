// Package unionhub is the root of the UnionHub module: one binary
// (cmd/unionhub) that runs a trade union federation's bots on Telegram and
// VK. ARCHITECTURE.md draws the packages and who may import whom; the test
// beside this file holds the code to those arrows.
package unionhub
