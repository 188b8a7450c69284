// A certificate and keys for tests that need real PEM: made once with
// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650`.
#pragma once

#include <string>

namespace ledgersync::testing {

// Self-signed, CN=unit-client, valid 2026-11-25T16:33:15Z .. 2036-11-22T16:33:15Z.
inline const std::string kCert = R"(
-----BEGIN CERTIFICATE-----
MIIBgDCCASegAwIBAgIUaHE7FckKuTFCcVaEjiXM2b6K/iEwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLdW5pdC1jbGllbnQwHhcNMjYxMTI1MTYzMzE1WhcNMzYxMTIy
MTYzMzE1WjAWMRQwEgYDVQQDDAt1bml0LWNsaWVudDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABIxHNT8CRJD6yRIonvpW5U5pxgbSI7txc7Hd64Twx8z8f+zpq5db
AQF9DlFueQ5Om+1Ju1laOuWyXPlWNIkbCQqjUzBRMB0GA1UdDgQWBBR2Te5n8saR
Vdmp0kq3lWzMWLbagDAfBgNVHSMEGDAWgBR2Te5n8saRVdmp0kq3lWzMWLbagDAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIEf0qV1K3fRdxweuSqDG
xzNJbXfcUz8OuNuLs4ql3UYTAiB3FrXp+zgKx8dyG/5/inuDnwx47MDwSZpx8IrH
x7lZug==
-----END CERTIFICATE-----
)";
inline const std::string kKey = R"(
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9AfE9dY/pe2w1O/K
Ov23h7Covt1quHeSbmILM3JyUW+hRANCAASMRzU/AkSQ+skSKJ76VuVOacYG0iO7
cXOx3euE8MfM/H/s6auXWwEBfQ5RbnkOTpvtSbtZWjrlslz5VjSJGwkK
-----END PRIVATE KEY-----
)";
// The key of another certificate.
inline const std::string kOtherKey = R"(
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgD1r1tiPz9w34F7pD
DPbFZ443PPcDzN2hpcAb4f9DRvahRANCAATdvn3svRBAEmWGpyT09gfnropwjSqu
v+xd/8YVmBw/i8V2kgQKMy75MKVO5KKTk61ZJuzPvUxM5olIS5WvgQwa
-----END PRIVATE KEY-----
)";

}  // namespace ledgersync::testing
