// The connector registry: what each kind declares, settings checked against its schema (each
// bad setting named), secret settings kept out of what is shown, and the command line's
// --option / --settings-file.
#include "connectors/registry.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli/render.hpp"
#include "cli/settings_options.hpp"
#include "config/integration_config.hpp"
#include "connectors/connector.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

setting_spec spec(std::string key, setting_type t) {
  setting_spec s;
  s.key = std::move(key);
  s.type = t;
  s.help = "help for " + s.key;
  return s;
}

// A kind with one setting of every type, as a vendor connector would declare them.
connector_kind every_type() {
  connector_kind k;
  k.name = "xero";
  auto tenant = spec("tenant_id", setting_type::string);
  tenant.required = true;
  auto size = spec("page_size", setting_type::integer);
  size.min = 1;
  size.max = 1000;
  size.default_value = 100;
  auto rate = spec("rate", setting_type::number);
  rate.min = 0.5;
  auto archived = spec("include_archived", setting_type::boolean);
  auto region = spec("region", setting_type::enumeration);
  region.allowed = {"uk", "us"};
  auto token = spec("token", setting_type::string);
  token.secret = true;
  k.settings = {tenant,
                size,
                rate,
                archived,
                region,
                spec("extra", setting_type::object),
                spec("entities", setting_type::array),
                token};
  k.check = [](const json& s) -> std::string {
    return s.value("region", "") == "us" && s.value("page_size", 0) > 500
               ? "settings.page_size is at most 500 in the us region"
               : "";
  };
  return k;
}

}  // namespace

TEST_CASE("the registry knows rest, with its label, settings, streams and factory") {
  auto* rest = find_connector_kind("rest");
  REQUIRE(rest);
  CHECK(rest->label == "Generic REST API");
  CHECK(find_connector_kind("nope") == nullptr);
  CHECK(known_connector_kinds().find("rest") != std::string::npos);
  CHECK(rest->default_streams().size() == rest->streams.size());
  integration_config c;
  c.connector = "rest";
  CHECK(make_connector(c) != nullptr);
  c.connector = "nope";
  CHECK(make_connector(c) == nullptr);
  auto summary = connectors_json();
  REQUIRE(summary.is_array());
  CHECK(summary[0]["name"] == "rest");
  auto full = to_json(*rest, true);
  CHECK(full["settings"][0]["key"] == "watermark_order");
  CHECK(full["settings"][0]["default"] == "timestamp");
  CHECK(full["settings"][1]["key"] == "secret_headers");
  CHECK(full["settings"][1]["secret"] == true);
  CHECK(full["streams"][0]["name"] == "customers");
  CHECK(secret_setting_keys("rest") ==
        std::vector<std::string>{"secret_headers", "client_secret", "refresh_token"});
  CHECK(secret_setting_keys("nope").empty());
}

TEST_CASE("settings are checked against the kind's schema, each bad one named") {
  auto k = every_type();
  json good{{"tenant_id", "t-1"},       {"page_size", 10},  {"rate", 2.5},
            {"include_archived", true}, {"region", "uk"},   {"extra", {{"a", 1}}},
            {"entities", {"Invoices"}}, {"token", "s3cret"}};
  CHECK(validate_settings(k, good) == "");
  CHECK(validate_settings(k, json{{"tenant_id", "t"}}) == "");
  struct bad {
    json change;
    std::string message;
  };
  std::vector<bad> cases{
      {{{"tenant_id", nullptr}}, "settings.tenant_id is required for xero (help for tenant_id)"},
      {{{"tenant_id", ""}}, "settings.tenant_id is required for xero (help for tenant_id)"},
      {{{"tenant_id", 5}}, "settings.tenant_id must be a string, got 5"},
      {{{"page_size", "x"}}, "settings.page_size must be an integer from 1 to 1000, got \"x\""},
      {{{"page_size", 1001}}, "settings.page_size must be an integer from 1 to 1000, got 1001"},
      {{{"page_size", 1.5}}, "settings.page_size must be an integer from 1 to 1000, got 1.5"},
      {{{"page_size", 18446744073709551615ull}},
       "settings.page_size must be an integer from 1 to 1000, got 18446744073709551615"},
      {{{"rate", 0.1}}, "settings.rate must be a number of at least 0.5, got 0.1"},
      {{{"include_archived", "yes"}},
       "settings.include_archived must be true or false, got \"yes\""},
      {{{"region", "eu"}}, "settings.region must be one of uk, us, got \"eu\""},
      {{{"extra", "a=1"}}, "settings.extra must be a JSON object, got \"a=1\""},
      {{{"entities", "Invoices"}}, "settings.entities must be a JSON array, got \"Invoices\""},
      // The secret's value is not repeated, even when it is of the wrong type.
      {{{"token", 123456}}, "settings.token must be a string"},
      {{{"tenantid", "t"}},
       "settings.tenantid is not a setting of xero (its settings: tenant_id, page_size, rate, "
       "include_archived, region, extra, entities, token)"},
      {{{"region", "us"}, {"page_size", 600}},
       "settings.page_size is at most 500 in the us region"},
  };
  for (auto& c : cases) {
    auto s = good;
    s.merge_patch(c.change);
    if (c.change.contains("tenant_id") && c.change["tenant_id"].is_null()) s.erase("tenant_id");
    if (c.change.contains("tenantid")) s = json{{"tenant_id", "t"}, {"tenantid", "t"}};
    INFO(c.change.dump());
    CHECK(validate_settings(k, s) == c.message);
  }
  CHECK(validate_settings(k, json::array()) == "settings must be a JSON object of xero's settings");
  CHECK(settings_with_defaults(k, json{{"tenant_id", "t"}})["page_size"] == 100);
}

TEST_CASE("a save is refused for an unknown connector or a bad setting, naming it") {
  integration_config c;
  c.name = "a";
  c.base_url = "https://api.example.com";
  c.streams = default_rest_streams();
  CHECK(validate(c) == "");
  c.connector = "nope";
  CHECK(validate(c).find("unknown connector 'nope' (known: rest") == 0);
  c.connector = "rest";
  c.settings = {{"secret_header", {{"X-Key", "k"}}}};
  CHECK(validate(c).find("settings.secret_header is not a setting of rest") == 0);
  c.settings = {{"secret_headers", {{"X-Key", "a\r\nHost: evil"}}}};
  CHECK(validate(c) == "settings.secret_headers.X-Key must be a string without line breaks");
  c.settings = {{"watermark_order", "time"}};
  CHECK(validate(c) == "settings.watermark_order must be one of timestamp, text, got \"time\"");
  c.settings = {{"secret_headers", {{"X Key", "k"}}}};
  CHECK(validate(c) == "settings.secret_headers: 'X Key' is not a valid HTTP header name");
}

TEST_CASE("secret settings are never shown, and reach the upstream's request") {
  integration_config c;
  c.name = "a";
  c.base_url = "https://api.example.com";
  c.streams = default_rest_streams();
  c.settings = {{"secret_headers", {{"X-Tenant-Key", "tk-very-secret"}}}};
  auto shown = to_json(c, false);
  CHECK(shown.dump().find("tk-very-secret") == std::string::npos);
  CHECK(shown["settings_hints"]["secret_headers"] == "(set, sealed)");
  auto with = to_json(c, true);
  CHECK(with["settings"]["secret_headers"]["X-Tenant-Key"] == "tk-very-secret");
  // A shown config read back keeps no secret and is not an error; nulls mean "not set".
  std::string err;
  auto back = config_from_json(shown, err);
  REQUIRE(back);
  CHECK(back->settings == json::object());
  auto j = with;
  j["settings"]["gone"] = nullptr;
  back = config_from_json(j, err);
  REQUIRE(back);
  CHECK_FALSE(back->settings.contains("gone"));
  j["settings"] = "x";
  CHECK_FALSE(config_from_json(j, err));
  CHECK(err.find("'settings' must be a JSON object") != std::string::npos);
  auto conn = make_connector(c);
  auto req = conn->probe_request(c.streams[0]);
  bool sent = false;
  for (auto& [k, v] : req.headers) sent = sent || (k == "X-Tenant-Key" && v == "tk-very-secret");
  CHECK(sent);
}

TEST_CASE("--option KEY=VALUE: a setting the kind declares as text is taken as written") {
  std::string err;
  auto s = cli::settings_from_options(
      {"realm_id=9130350000000000", "minor_version=75", "max_results=500"}, "", err,
      [](const std::string& key) { return cli::text_setting("quickbooks", key); });
  REQUIRE(s);
  CHECK((*s)["realm_id"] == "9130350000000000");  // the schema says string
  CHECK((*s)["max_results"] == 500);              // the schema says integer
  CHECK(cli::text_setting("quickbooks", "realm_id"));
  CHECK_FALSE(cli::text_setting("quickbooks", "max_results"));
  CHECK_FALSE(cli::text_setting("no-such-kind", "realm_id"));
  CHECK(validate_settings(*find_connector_kind("quickbooks"), *s).find("realm_id") ==
        std::string::npos);
}

TEST_CASE("--option KEY=VALUE: JSON when it reads as JSON, text otherwise, @FILE read") {
  std::string err;
  auto s = cli::settings_from_options(
      {"tenant_id=abc-1", "page_size=100", "rate=2.5", "archived=true", "extra={\"a\":1}",
       "list=[1,2]", "gone=null", "quoted=\"x\"", "empty=", "eq=a=b"},
      "", err);
  REQUIRE(s);
  CHECK((*s)["tenant_id"] == "abc-1");
  CHECK((*s)["page_size"] == 100);
  CHECK((*s)["rate"] == 2.5);
  CHECK((*s)["archived"] == true);
  CHECK((*s)["extra"] == json{{"a", 1}});
  CHECK((*s)["list"] == json{1, 2});
  CHECK((*s)["gone"].is_null());
  CHECK((*s)["quoted"] == "\"x\"");
  CHECK((*s)["empty"] == "");
  CHECK((*s)["eq"] == "a=b");

  auto dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  auto secret = dir + "/ledgersync-registry-test-secret";
  auto file = dir + "/ledgersync-registry-test-settings.json";
  std::ofstream(secret) << "tok-123\n";
  std::ofstream(secret + ".num") << "0042\n";
  std::ofstream(secret + ".obj") << "{\"X-Key\": \"k\"}\n";
  auto from_files =
      cli::settings_from_options({"pin=@" + secret + ".num", "hdr=@" + secret + ".obj"}, "", err);
  REQUIRE(from_files);
  CHECK((*from_files)["pin"] == "0042");
  CHECK((*from_files)["hdr"] == json{{"X-Key", "k"}});
  std::remove((secret + ".num").c_str());
  std::remove((secret + ".obj").c_str());
  std::ofstream(file) << R"({"tenant_id": "from-file", "page_size": 5})";
  s = cli::settings_from_options({"token=@" + secret, "page_size=7"}, file, err);
  REQUIRE(s);
  CHECK((*s)["token"] == "tok-123");
  CHECK((*s)["tenant_id"] == "from-file");
  CHECK((*s)["page_size"] == 7);  // --option wins over the file

  struct bad {
    std::vector<std::string> options;
    std::string file;
    std::string message;
  };
  std::ofstream(file + ".arr") << "[1]";
  for (auto& b : std::vector<bad>{
           {{"novalue"}, "", "--option 'novalue': expected KEY=VALUE"},
           {{"=x"}, "", "--option '=x': expected KEY=VALUE"},
           {{"bad key=x"}, "", "--option 'bad key=x': expected KEY=VALUE"},
           {{"extra={\"a\":"}, "", "--option extra: the value starts like JSON but is not valid"},
           {{"token=@/nonexistent/x"}, "", "--option token: cannot read the file /nonexistent/x"},
           {{}, "/nonexistent/s.json", "--settings-file: cannot read /nonexistent/s.json"},
           {{}, file + ".arr", "--settings-file: " + file + ".arr must hold a JSON object"},
       }) {
    err.clear();
    INFO(b.message);
    CHECK_FALSE(cli::settings_from_options(b.options, b.file, err));
    CHECK(err.rfind(b.message, 0) == 0);
  }
  std::remove(secret.c_str());
  std::remove(file.c_str());
  std::remove((file + ".arr").c_str());
}

TEST_CASE("connectors: a table of kinds, and one kind's settings and streams") {
  std::ostringstream table;
  cli::write_connectors(table, connectors_json());
  // Columns as wide as the longest name and label, which grow as kinds are added.
  CHECK(std::regex_search(table.str(),
                          std::regex("\nrest +Generic REST API +customers, invoices, payments")));
  CHECK(std::regex_search(table.str(), std::regex("\necb_fx +ECB euro reference rates +fx_rates")));
  std::ostringstream one;
  cli::write_connector(one, to_json(*find_connector_kind("rest"), true));
  // The columns are as wide as the widest entry (the OAuth settings' grant enum).
  std::regex order("\n  watermark_order +enum \\(timestamp\\|text\\) +\"timestamp\"");
  CHECK(std::regex_search(one.str(), order));
  CHECK(std::regex_search(one.str(), std::regex("\n  secret_headers +object")));
  CHECK(one.str().find("ledgersync connect NAME") != std::string::npos);
  CHECK(one.str().find("secret") != std::string::npos);
  CHECK(one.str().find("customers  customer") != std::string::npos);
}

namespace {

integration_config of_kind(const std::string& kind, json settings = json::object()) {
  integration_config c;
  c.connector = kind;
  c.base_url = "https://api.xero.com/api.xro/2.0";
  c.settings = std::move(settings);
  return c;
}

}  // namespace

TEST_CASE("default request rates: each kind's, unless the integration gives its own") {
  using std::chrono::milliseconds;
  // Spacing is what the bucket refills by; burst 1 keeps every window within the limit.
  auto xero = upstream_bucket(of_kind("xero"));
  CHECK(xero.refill_every() == milliseconds(1000));
  CHECK(xero.burst() == 1);
  auto test = upstream_bucket(of_kind("stripe"));
  CHECK(test.refill_every() == milliseconds(40));  // 25 a second
  CHECK(test.burst() == 1);
  auto live = upstream_bucket(of_kind("stripe", {{"mode", "live"}}));
  CHECK(live.refill_every() == milliseconds(10));  // 100 a second
  for (auto kind : {"rest", "ecb_fx"}) {
    auto b = upstream_bucket(of_kind(kind));
    CHECK(b.refill_every() == milliseconds(50));  // 20 a second, as before
    CHECK(b.burst() == 20);
  }
  // An integration's own limit wins, each half on its own.
  auto own = of_kind("xero");
  own.upstream_rate_per_s = 4;
  CHECK(upstream_bucket(own).refill_every() == milliseconds(250));
  CHECK(upstream_bucket(own).burst() == 1);
  own.upstream_burst = 3;
  CHECK(upstream_bucket(own).burst() == 3);

  CHECK(to_json(*find_connector_kind("xero"), true)["default_rate"] == "60 per minute");
  CHECK(to_json(*find_connector_kind("stripe"), false)["default_rate"] == "25 per second");
  CHECK(to_json(*find_connector_kind("rest"), false)["default_rate"] ==
        "20 per second, 20 at once");
  std::ostringstream one;
  cli::write_connector(one, to_json(*find_connector_kind("xero"), true));
  CHECK(one.str().find("Requests: 60 per minute by default") != std::string::npos);
  CHECK(one.str().find("Shared: 10000 per minute for all integrations of the same app") !=
        std::string::npos);
}

TEST_CASE("an unset rate is stored unset (the kind's), a given one is kept, a bad one refused") {
  auto c = of_kind("rest");
  c.name = "acme";
  c.streams = default_rest_streams();
  auto j = to_json(c, true);
  CHECK_FALSE(j.contains("upstream_rate_per_s"));
  CHECK_FALSE(j.contains("upstream_burst"));
  std::string err;
  auto back = config_from_json(j, err);
  REQUIRE(back);
  CHECK_FALSE(back->upstream_rate_per_s);
  j["upstream_rate_per_s"] = 2.5;
  j["upstream_burst"] = 4;
  back = config_from_json(j, err);
  REQUIRE(back);
  CHECK(*back->upstream_rate_per_s == 2.5);
  CHECK(*back->upstream_burst == 4);
  CHECK(to_json(*back, false)["upstream_rate_per_s"] == 2.5);
  j["upstream_burst"] = nullptr;  // configure's way back to the kind's default
  back = config_from_json(j, err);
  REQUIRE(back);
  CHECK_FALSE(back->upstream_burst);
  back->upstream_rate_per_s = 0;
  CHECK(validate(*back).find("upstream_rate_per_s must be positive") != std::string::npos);
  back->upstream_rate_per_s = std::nullopt;
  back->upstream_burst = 0;
  CHECK(validate(*back).find("upstream_burst must be at least 1") != std::string::npos);
}

TEST_CASE("xero's shared limit: keyed by the app's client id, else by the Xero host") {
  auto by_host = shared_limit_of(of_kind("xero", {{"tenant_id", "t1"}}));
  REQUIRE(by_host);
  CHECK(by_host->key == "xero:api.xero.com");
  CHECK(by_host->rate.calls == 10000);
  CHECK(by_host->rate.per == std::chrono::minutes(1));
  // Another organisation of the same app: the same budget.
  CHECK(shared_limit_of(of_kind("xero", {{"tenant_id", "t2"}}))->key == by_host->key);
  CHECK(shared_limit_of(of_kind("xero", {{"client_id", "ABC"}}))->key == "xero:client:ABC");
  CHECK_FALSE(shared_limit_of(of_kind("stripe")));
  CHECK_FALSE(shared_limit_of(of_kind("rest")));
}
