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
// Writes (stripe_writes.cpp), customers only:
//   POST /customers, POST /customers/{id}  (form: name, email, phone, description,
//       metadata[KEY]; an update merges metadata, "" unsets) -> the customer; a
//       customer.created / customer.updated event, and the customer in /customers.
//   GET /customers/{id}; GET /customers/search?query=metadata['KEY']:'VALUE'
//       -> {"object":"search_result","data":[…],"has_more":false,"next_page":null}
// Idempotency-Key: the same key on the same request replays the first answer with
// `Idempotent-Replayed: true` and changes nothing; on another request (path or parameters) it is
// 400 idempotency_error. Answers that failed validation are not kept (Stripe's rule). Effects
// count by metadata[external_id]. Write faults: write_500, write_lost (the effect happens, the
// answer is a 500), write_429.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
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
  stripe_api(stripe_options o, clock_fn now, effect_log& effects);

  // `req.path` below the prefix, e.g. "/customers".
  vendor_response handle(const vendor_request& req);
  // /_sandbox/{mutate,invalid,repair,remove}; the number changed, or -1 for an unknown
  // collection.
  long control(vendor_collection::action a, const std::string& collection, size_t count);
  // The next `count` requests get a 429 with code `kind` (rate_limit or lock_timeout), or the
  // next `count` writes fail as `kind` says (write_500, write_lost, write_429).
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
  // stripe_writes.cpp: requests to one customer, the search, and writes.
  vendor_response customer_request(const vendor_request& req, int64_t now, vendor_response r);
  vendor_response write_customer(const vendor_request& req, const std::string& id, int64_t now,
                                 vendor_response r);

  stripe_options opts_;
  clock_fn now_;
  std::mutex mu_;
  std::vector<vendor_collection> colls_;
  std::vector<event> events_;  // oldest first
  window_limiter per_second_;
  std::vector<std::string> faults_;
  uint64_t request_seq_ = 0;
  effect_log& effects_;
  std::map<size_t, nlohmann::json> stored_;  // customers written through the API, by index
  struct reply {
    std::string request;  // method, path and body: what the key was first used for
    vendor_response answer;
  };
  std::map<std::string, reply> replies_;  // Idempotency-Key -> the first answer
  std::vector<std::string> write_faults_;
};

}  // namespace ledgersync::sandbox
