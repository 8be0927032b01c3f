package handlers

import "net/url"

// Links builds the deep links that open the bot on each platform, and
// knows where the console is.
type Links struct {
	TelegramBot string // bot username, without @
	VKGroup     string // community screen name, or "club<id>"
	// Console is the staff console's public address, which its sign-in
	// links start with.
	Console string
}

// Telegram returns https://t.me/<bot>?start=<payload>, or "" when unknown.
func (l Links) Telegram(payload string) string {
	if l.TelegramBot == "" {
		return ""
	}
	return "https://t.me/" + l.TelegramBot + "?start=" + url.QueryEscape(payload)
}

// VK returns https://vk.me/<group>?ref=<payload>, or "" when unknown.
func (l Links) VK(payload string) string {
	if l.VKGroup == "" {
		return ""
	}
	return "https://vk.me/" + l.VKGroup + "?ref=" + url.QueryEscape(payload)
}
