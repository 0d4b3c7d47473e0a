package livestat

// Endpoint names an API endpoint, as livestat's errors (the Endpoint field of
// APIError, ResponseError, TransportError, PaginationError, ValidationError,
// NoCredentialsError), its logs and livestattest name it: the path below the
// vendor's API prefix, such as "living/get_watch_stat".
//
// The endpoints livestat wraps are the Endpoint constants, each described
// once, in the file of its API area, beside its types and methods: its
// vendor, HTTP method, path and the vendor's documentation page. An Endpoint
// that livestat does not wrap (one reached through WeComService.Do) has no
// description: its Vendor, Method, Path and DocURL are empty, and its errors
// carry the vendor in their own Vendor field.
type Endpoint string

// String returns the endpoint's name.
func (e Endpoint) String() string { return string(e) }

// Vendor returns the vendor serving the endpoint.
func (e Endpoint) Vendor() Vendor { return e.describe().vendor }

// Method returns the HTTP method of the endpoint's requests.
func (e Endpoint) Method() string { return e.describe().method }

// Path returns the endpoint's URL path, below the vendor's base URL.
func (e Endpoint) Path() string { return e.describe().path }

// DocURL returns the vendor's documentation page of the endpoint.
func (e Endpoint) DocURL() string { return e.describe().doc }

// endpointInfo describes one endpoint.
type endpointInfo struct {
	vendor       Vendor
	method, path string
	doc          string
}

// describe returns e's description, from the area file that defines e: each
// area lists its endpoints in one function. A new endpoint of an existing
// area is a case of that area's function; a new area adds its function here.
func (e Endpoint) describe() endpointInfo {
	for _, area := range [...]func(Endpoint) (endpointInfo, bool){
		wecomEndpoints,  // wecom.go
		livingEndpoints, // living.go
		schoolEndpoints, // school_living.go
		nuoyunEndpoints, // nuoyun_durations.go
	} {
		if info, ok := area(e); ok {
			return info
		}
	}
	return endpointInfo{}
}
