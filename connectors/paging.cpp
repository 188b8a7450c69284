#include "connectors/paging.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

#include "connectors/json_text.hpp"

namespace ledgersync {

namespace {

// The text of a scalar at `pointer` in the body ("" when absent, null or not a scalar).
std::string text_at(const page_view& v, const std::string& pointer) {
  if (pointer.empty()) return "";
  auto r = v.body.at_pointer(pointer);
  if (r.error()) return "";
  auto e = r.value_unsafe();
  // A page token is never a fraction: 1.5 is no token, not "1.5".
  if (e.type() == simdjson::dom::element_type::DOUBLE) return "";
  return scalar_text(e);
}

// A whole number at `pointer`, or nullopt (absent, not an integer).
std::optional<int64_t> number_at(const page_view& v, const std::string& pointer) {
  if (pointer.empty()) return std::nullopt;
  auto r = v.body.at_pointer(pointer);
  if (r.error()) return std::nullopt;
  int64_t n;
  if (r.value_unsafe().get_int64().get(n)) return std::nullopt;
  return n;
}

// Our own numeric tokens; anything else (a state from elsewhere) starts again at `first`.
int64_t token_number(const std::string& token, int64_t first) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
  return ec == std::errc() && p == token.data() + token.size() ? n : first;
}

next_page url_next(std::string token, const paging_origin& origin) {
  next_page out;
  if (token.empty()) return out;
  auto resolved = resolve_next_url(origin.base_url, token);
  if (auto refused = refuse_next_url(origin, resolved); !refused.empty()) {
    out.error = make_error_info(error_category::config, refused);
    out.error.permanent = true;
    return out;
  }
  out.has_more = true;
  out.token = std::move(token);
  return out;
}

class cursor_strategy final : public paging_strategy {
 public:
  cursor_strategy(std::string param, std::string pointer)
      : param_(std::move(param)), pointer_(std::move(pointer)) {}
  void apply(const std::string& token, boost::urls::url& u) const override {
    if (!token.empty()) u.params().set(param_, token);
  }
  next_page next(const page_view& v, const std::string&, const paging_origin&) const override {
    next_page out;
    out.token = text_at(v, pointer_);
    out.has_more = !out.token.empty() && v.count > 0;
    if (!out.has_more) out.token.clear();
    return out;
  }

 private:
  std::string param_, pointer_;
};

class page_number_strategy final : public paging_strategy {
 public:
  page_number_strategy(std::string param, int64_t first, int64_t page_size, std::string pc)
      : param_(std::move(param)), first_(first), size_(page_size), count_ptr_(std::move(pc)) {}
  void apply(const std::string& token, boost::urls::url& u) const override {
    u.params().set(param_, token.empty() ? std::to_string(first_) : token);
  }
  next_page next(const page_view& v, const std::string& token,
                 const paging_origin&) const override {
    next_page out;
    auto page = token.empty() ? first_ : token_number(token, first_);
    // A server may cap the page size below what was asked: with a page count, a short page
    // is not the end.
    if (auto pages = number_at(v, count_ptr_))
      out.has_more = v.count > 0 && page < *pages;
    else
      out.has_more = v.count > 0 && static_cast<int64_t>(v.count) >= size_;
    if (out.has_more) out.token = std::to_string(page + 1);
    return out;
  }

 private:
  std::string param_;
  int64_t first_, size_;
  std::string count_ptr_;
};

class next_url_strategy final : public paging_strategy {
 public:
  explicit next_url_strategy(std::string pointer) : pointer_(std::move(pointer)) {}
  void apply(const std::string&, boost::urls::url&) const override {}
  bool token_is_url() const override { return true; }
  next_page next(const page_view& v, const std::string&,
                 const paging_origin& origin) const override {
    return url_next(text_at(v, pointer_), origin);
  }

 private:
  std::string pointer_;
};

class link_strategy final : public paging_strategy {
 public:
  void apply(const std::string&, boost::urls::url&) const override {}
  bool token_is_url() const override { return true; }
  next_page next(const page_view& v, const std::string&,
                 const paging_origin& origin) const override {
    return url_next(link_next(v.response.header("Link")), origin);
  }
};

class offset_strategy final : public paging_strategy {
 public:
  offset_strategy(std::string param, int64_t first, int64_t page_size, std::string total)
      : param_(std::move(param)), first_(first), size_(page_size), total_(std::move(total)) {}
  void apply(const std::string& token, boost::urls::url& u) const override {
    u.params().set(param_, token.empty() ? std::to_string(first_) : token);
  }
  next_page next(const page_view& v, const std::string& token,
                 const paging_origin&) const override {
    next_page out;
    auto offset = token.empty() ? first_ : token_number(token, first_);
    auto next = offset + static_cast<int64_t>(v.count);
    if (auto total = number_at(v, total_))
      out.has_more = v.count > 0 && next - first_ < *total;
    else
      out.has_more = v.count > 0 && static_cast<int64_t>(v.count) >= size_;
    if (out.has_more) out.token = std::to_string(next);
    return out;
  }

 private:
  std::string param_;
  int64_t first_, size_;
  std::string total_;
};

class starting_after_strategy final : public paging_strategy {
 public:
  starting_after_strategy(std::string param, std::string has_more)
      : param_(std::move(param)), has_more_(std::move(has_more)) {}
  void apply(const std::string& token, boost::urls::url& u) const override {
    if (!token.empty()) u.params().set(param_, token);
  }
  next_page next(const page_view& v, const std::string&, const paging_origin&) const override {
    next_page out;
    out.has_more = text_at(v, has_more_) == "true" && v.count > 0 && !v.last_id.empty();
    if (out.has_more) out.token = v.last_id;
    return out;
  }

 private:
  std::string param_, has_more_;
};

class no_strategy final : public paging_strategy {
 public:
  void apply(const std::string&, boost::urls::url&) const override {}
  next_page next(const page_view&, const std::string&, const paging_origin&) const override {
    return {};
  }
};

}  // namespace

std::unique_ptr<paging_strategy> cursor_paging(std::string param, std::string pointer) {
  return std::make_unique<cursor_strategy>(std::move(param), std::move(pointer));
}
std::unique_ptr<paging_strategy> page_number_paging(std::string param, int64_t first,
                                                    int64_t page_size,
                                                    std::string page_count_pointer) {
  return std::make_unique<page_number_strategy>(std::move(param), first, page_size,
                                                std::move(page_count_pointer));
}
std::unique_ptr<paging_strategy> next_url_paging(std::string pointer) {
  return std::make_unique<next_url_strategy>(std::move(pointer));
}
std::unique_ptr<paging_strategy> link_header_paging() {
  return std::make_unique<link_strategy>();
}
std::unique_ptr<paging_strategy> offset_paging(std::string param, int64_t first, int64_t page_size,
                                               std::string total_pointer) {
  return std::make_unique<offset_strategy>(std::move(param), first, page_size,
                                           std::move(total_pointer));
}
std::unique_ptr<paging_strategy> starting_after_paging(std::string param,
                                                       std::string has_more_pointer) {
  return std::make_unique<starting_after_strategy>(std::move(param), std::move(has_more_pointer));
}
std::unique_ptr<paging_strategy> no_paging() {
  return std::make_unique<no_strategy>();
}

std::string refuse_next_url(const paging_origin& origin, const std::string& resolved) {
  auto where = origin_of(resolved);
  auto allowed = origin_of(origin.configured_url);
  if (where.empty() || allowed.empty() || where != allowed) {
    std::string shown = where.empty() ? resolved.substr(0, 200) : where;
    return "the upstream's next-page link points to " + shown + ", not the configured " +
           (allowed.empty() ? origin.configured_url : allowed) +
           "; refused so that the credentials go nowhere else";
  }
  return "";
}

std::string resolve_next_url(const std::string& base_url, const std::string& token) {
  if (token.rfind("http://", 0) == 0 || token.rfind("https://", 0) == 0 ||
      token.rfind("file:", 0) == 0)
    return token;
  auto base = boost::urls::parse_uri(base_url);
  auto ref = boost::urls::parse_uri_reference(token);
  if (!base || !ref) return token;
  boost::urls::url out;
  if (boost::urls::resolve(*base, *ref, out)) return std::string(out.buffer());
  return token;
}

}  // namespace ledgersync
