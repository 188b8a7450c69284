// libFuzzer target: an OData page through a fixed invoice field map, and the input as a field
// map's settings.
#include "model/map_odata.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace ledgersync::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const odata_field_map map = *odata_field_map::from_json(nlohmann::json::parse(R"({
    "entity": "invoice", "currency": "EUR", "deleted": "Deleted",
    "fields": {"id": "No", "customer_id": "Sell_to_Customer_No", "number": "/No",
               "currency": "Currency_Code", "total": "Amount_Including_VAT",
               "amount_due": "Remaining_Amount", "issue_date": "Document_Date",
               "due_date": "Due_Date", "status": "Status", "updated_at": "Last_Modified"}})"));
  auto in = fuzz::text(data, size);
  fuzz::check_mapped(map_odata(in, map));
  auto recs = records_at(in, "/value");
  if (recs.ok()) {
    for (const auto& r : *recs.value) fuzz::check_mapped(map_odata(r, map));
  }
  auto settings = parse_exact(in);
  if (settings.ok()) {
    auto m = odata_field_map::from_json(*settings);
    fuzz::require(m.ok() == m.error.empty());
    if (m.ok()) fuzz::require(odata_field_map::from_json(m->to_json()).ok());
  }
  return 0;
}
