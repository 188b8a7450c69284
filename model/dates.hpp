// Dates and instants in the canonical model: a date is "YYYY-MM-DD" (a calendar day, no zone:
// an invoice's issue date, a booking date); an instant is UTC "YYYY-MM-DDTHH:MM:SSZ", with
// ".fff" only when the milliseconds are not zero (so equal instants are equal strings).
//
// Vendors' forms accepted: ISO 8601 ("2026-11-25", "2026-11-25T10:00:00", with "Z", "+01:00"
// or "+0100"; fractions of a second beyond milliseconds are truncated), Xero's
// "/Date(1539993600000+0000)/" (milliseconds since the epoch in UTC, then the offset of the
// zone it was written in) and Unix seconds (Stripe).
//
// An ISO datetime without a zone is taken as UTC: Xero's *DateString and UpdatedDateUTCString
// fields are UTC, and no vendor here sends local time without saying so. For a *date*, the
// calendar day as written is kept: "2026-11-25T23:30:00-05:00" is the date 2026-11-25, and a
// Xero /Date()/ is read in the zone its offset names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace ledgersync::model {

result<std::string> normalize_date(std::string_view text);
result<std::string> normalize_datetime(std::string_view text);
std::string date_from_unix(int64_t seconds);
std::string datetime_from_unix(int64_t seconds);
// Whether `text` is already canonical (what the validator checks).
bool is_canonical_date(std::string_view text);
bool is_canonical_datetime(std::string_view text);
// A checked calendar day: nullopt-like failure for 2026-02-30.
result<std::string> make_date(int year, unsigned month, unsigned day);

}  // namespace ledgersync::model
