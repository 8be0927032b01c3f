package storage

// OrgPerson is one membership of an organisation as its page lists it: the
// person, where the bot reaches them, and their decision on personal data.
type OrgPerson struct {
	Membership Membership
	Person     Person
	Accounts   []Account
	// Consent is the person's latest decision on personal data; nil when
	// they have made none.
	Consent *Consent
}
