package vk

// Limits of the Callback API endpoint, for the tests.
const (
	MaxCallbackBody = maxCallbackBody
	CallbackBudget  = callbackBudget
)
