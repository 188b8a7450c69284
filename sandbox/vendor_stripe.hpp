// Stripe's API as the sandbox serves it below /stripe/v1:
//   GET /customers, /charges, /payment_intents, /invoices, /balance_transactions, /events
//       ?limit=1..100 (default 10)&starting_after=ID|ending_before=ID&created[gte|gt|lte|lt]=UNIX
//       (/events also types[]=… and type=…)
//   -> {"object":"list","url":"/v1/…","has_more":bool,"data":[…]}, newest first.
// Objects are shaped like Stripe's own fixtures (vendor-specs/stripe-fixtures3.json). Every
// change made through the control API adds an event ("customer.updated", "charge.updated", …);
// the list starts with one "*.created" (charges: "charge.succeeded") event per object, and
// removing a customer hides it from /customers and adds "customer.deleted" (charges, payment
// intents, invoices and balance transactions are never deleted: remove changes nothing).
// Auth `Authorization: Bearer <api key>` (401 "Invalid API Key provided"); `Stripe-Version` is
// echoed (default 2024-06-20); every response has a Request-Id; over `per_second_limit` requests
// in a second, or on the rate_limit / lock_timeout fault, 429 {"error":{"type":
// "invalid_request_error","code":"rate_limit"}} with no Retry-After. Unknown parameters, bad
// limits and unknown cursors are 400 invalid_request_error naming the `param`.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "sandbox/vendor_common.hpp"

namespace ledgersync::sandbox {

struct stripe_options {
  size_t records = 100;  // per collection
  uint64_t seed = 1;
  std::string api_key = "sk_test_sandbox";
  std::string default_version = "2024-06-20";
  size_t per_second_limit = 25;  // test mode; live mode is 100
};

class stripe_api {
 public:
  stripe_api(stripe_options o, clock_fn now);

  // `req.path` below the prefix, e.g. "/customers".
  vendor_response handle(const vendor_request& req);
  // /_sandbox/{mutate,invalid,repair,remove}; the number changed, or -1 for an unknown
  // collection.
  long control(vendor_collection::action a, const std::string& collection, size_t count);
  // The next `count` requests get a 429 with code `kind` (rate_limit or lock_timeout).
  bool fault(const std::string& kind, size_t count);

  static const std::vector<std::string>& collections();  // without "events"
  // Every object of `collection` (deleted customers included), for tests.
  std::vector<std::string> records(const std::string& collection);

 private:
  struct event {
    std::string id, type;
    int64_t created_s = 0;
    size_t coll = 0, idx = 0;
  };
  std::string object_id(size_t coll, size_t idx) const;
  void render(size_t coll, size_t idx, std::string& out) const;
  void render_event(const event& e, std::string& out) const;
  void add_event(size_t coll, size_t idx, const std::string& type, int64_t created_s);

  stripe_options opts_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  std::vector<event> events_;  // oldest first
  window_limiter per_second_;
  std::vector<std::string> faults_;
  uint64_t request_seq_ = 0;
};

}  // namespace ledgersync::sandbox
