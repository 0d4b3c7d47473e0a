package livestat

// Endpoint names, as the Endpoint field of livestat's errors (APIError,
// ResponseError, TransportError, PaginationError, ValidationError) carries
// them and as livestattest.Endpoint spells them. Each is defined once.
const (
	EndpointGetToken            = "gettoken"
	EndpointWatchStat           = epWatchStat
	EndpointSchoolWatchStat     = epSchoolWatch
	EndpointSchoolUnwatchStat   = epSchoolUnwatch
	EndpointNuoyunUserDurations = epUserDurations
)
