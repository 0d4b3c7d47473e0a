package attendance

// Options configure the reports.
type Options struct {
	// Threshold is the watch time that counts as attended; the zero
	// value counts any watch time.
	Threshold Threshold
	// Roster, for school reports, lists the people the broadcasts were
	// for: the members on neither WeCom list are reported as Unknown,
	// and the rows of those it lists carry its Name and Class. Corp
	// reports ignore it.
	Roster Roster
	// Concurrency is how many broadcasts Schools, Corps and the
	// LivingIDs functions work on at once (default DefaultConcurrency).
	Concurrency int
	// Progress, if set, is called after each broadcast that Schools,
	// Corps or the LivingIDs functions finish, with the number finished
	// and the number in all. Calls come from the workers' goroutines one
	// at a time, never after the function returned.
	Progress func(done, total int)
}
