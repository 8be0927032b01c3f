package vk

// Limits of the Callback API endpoint, for the tests.
const (
	MaxCallbackBody = maxCallbackBody
	CallbackBudget  = callbackBudget
)

// FileID is the FileID of an attachment with its link.
var FileID = fileID
