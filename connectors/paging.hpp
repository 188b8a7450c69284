// Paging strategies: how a pass asks for its next page and learns from an answer whether there
// is one. Small stateless objects a connector composes (the rest connector picks one by each
// stream's `pagination.style`; vendor connectors pick theirs in code). Each page's token is the
// strategy's own text — a cursor, a page number, a next URL, an offset, the last record's id —
// and is kept in the connector's state, so a crash resumes the pass where it stood.
//
// An upstream is untrusted: a next URL is followed only on the configured origin, and a token
// that repeats or a pass that never ends is stopped by paging_guard (the integration actor asks
// it before each page). Thread-safety: immutable after construction.
#pragma once

#include <simdjson.h>

#include <boost/url/url.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "connectors/http_types.hpp"
#include "core/errors.hpp"

namespace ledgersync {

// What a strategy may read of an answer. `body` is the parsed document (null for none).
struct page_view {
  simdjson::dom::element body;
  const http_response& response;
  size_t count = 0;     // records in the page
  std::string last_id;  // the last record's id ("" for an empty page)
};

struct next_page {
  bool has_more = false;
  std::string token;
  error_info error;  // not ok: the answer may not be followed (a next URL to another origin)
};

// Where the pass's requests may go: the stream's configured URL (its origin is the only one)
// and the base URL a relative next URL resolves against.
struct paging_origin {
  std::string configured_url;
  std::string base_url;
};

class paging_strategy {
 public:
  virtual ~paging_strategy() = default;
  // Adds what selects the page named by `token` ("" = the pass's first page) to the request.
  virtual void apply(const std::string& token, boost::urls::url& url) const = 0;
  // Whether tokens are whole URLs to fetch as they are (after the origin check).
  virtual bool token_is_url() const { return false; }
  // From the answer to the page named by `token`: whether another follows, and its token.
  virtual next_page next(const page_view& page, const std::string& token,
                         const paging_origin& origin) const = 0;
};

// An opaque cursor in a body field, sent back as a query parameter (`next_cursor` → `?cursor=`).
// Ends at an empty or missing cursor, or an empty page.
std::unique_ptr<paging_strategy> cursor_paging(std::string param, std::string pointer);
// Page numbers from `first`: ends at a short or empty page or, when the answer carries a page
// count (Xero's pagination.pageCount), at the last page it names — an empty page ends even
// then, so a page count of 10^12 cannot keep a pass going on empty pages.
std::unique_ptr<paging_strategy> page_number_paging(std::string param, int64_t first,
                                                    int64_t page_size,
                                                    std::string page_count_pointer);
// The next page's URL in a body field (OData @odata.nextLink, Sage $next), relative or absolute.
std::unique_ptr<paging_strategy> next_url_paging(std::string pointer);
// RFC 8288 `Link: <…>; rel="next"`.
std::unique_ptr<paging_strategy> link_header_paging();
// Offset and limit (OData $skip/$top, QuickBooks STARTPOSITION/MAXRESULTS): the token is the
// next offset, from `first` (0 for $skip, 1 for STARTPOSITION). Ends at a short or empty page,
// or when a total in `total_pointer` says nothing is left.
std::unique_ptr<paging_strategy> offset_paging(std::string param, int64_t first, int64_t page_size,
                                               std::string total_pointer);
// Stripe's lists: `starting_after=<the last record's id>` while `has_more` (a body field) is true.
std::unique_ptr<paging_strategy> starting_after_paging(std::string param,
                                                       std::string has_more_pointer);
// One request returns everything.
std::unique_ptr<paging_strategy> no_paging();

// Why a next-page URL must not be followed, or "" when it may: only http(s) on the configured
// URL's scheme, host and port, so neither the credentials nor a request for a local file can be
// steered elsewhere by an upstream's answer.
std::string refuse_next_url(const paging_origin& origin, const std::string& resolved);
// A next URL relative to the base URL made absolute (absolute ones stay as they are).
std::string resolve_next_url(const std::string& base_url, const std::string& token);

}  // namespace ledgersync
