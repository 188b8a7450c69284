// The HTTP API server over real loopback HTTP, against a fake gateway.
