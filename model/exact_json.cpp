#include "model/exact_json.hpp"

#include <simdjson.h>

namespace ledgersync::model {
namespace {

using json = nlohmann::json;

class exact_sax : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  using base = nlohmann::detail::json_sax_dom_parser<json>;
  explicit exact_sax(json& root) : base(root, false) {}

  bool number_float(double, const std::string& text) {
    std::string copy = text;
    return base::string(copy);
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    error = e.what();
    (void)position;
    return base::parse_error(position, {}, e);
  }
  std::string error;
};

}  // namespace

result<json> parse_exact(std::string_view text) {
  json root;
  exact_sax sax(root);
  bool ok = json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
                            true, false);
  if (!ok || sax.is_errored()) {
    return result<json>::bad("malformed JSON: " + (sax.error.empty() ? "parse failed" : sax.error));
  }
  return result<json>::good(std::move(root));
}

result<std::vector<std::string>> records_at(std::string_view page, std::string_view pointer) {
  using out = result<std::vector<std::string>>;
  simdjson::padded_string padded(page);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (auto err = parser.iterate(padded).get(doc)) {
    return out::bad(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  simdjson::ondemand::array arr;
  auto err =
      pointer.empty() ? doc.get_array().get(arr) : doc.at_pointer(pointer).get_array().get(arr);
  if (err) {
    return out::bad("no array at " + std::string(pointer.empty() ? "the top" : pointer) + ": " +
                    simdjson::error_message(err));
  }
  std::vector<std::string> records;
  for (auto element : arr) {
    simdjson::ondemand::object obj;
    std::string_view raw;
    if ((err = element.get_object().get(obj)) || (err = obj.raw_json().get(raw))) {
      return out::bad("record " + std::to_string(records.size()) +
                      " is not a JSON object: " + simdjson::error_message(err));
    }
    records.emplace_back(raw);
  }
  return out::good(std::move(records));
}

result<decimal> json_decimal(const json& v) {
  if (v.is_string()) return decimal::parse(v.get_ref<const std::string&>());
  if (v.is_number_integer()) {
    return decimal::parse(v.is_number_unsigned() ? std::to_string(v.get<uint64_t>())
                                                 : std::to_string(v.get<int64_t>()));
  }
  if (v.is_null()) return result<decimal>::bad("no amount");
  return result<decimal>::bad("an amount must be a number or a string, not " +
                              std::string(v.type_name()));
}

}  // namespace ledgersync::model
