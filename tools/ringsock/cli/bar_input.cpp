#include "bar_input.hpp"

#include <cmath>
#include <limits>

#include "logic/json_reader.hpp"

namespace ringsock_cli {

namespace tool = ringsock::tool;

namespace {

using Kind = tool::JsonValue::Kind;

bool read_text(const tool::JsonValue& doc, const char* key, std::string& out, std::string& error) {
  const tool::JsonValue* v = doc.find(key);
  if (v == nullptr) return true;
  if (!v->is_string()) return error = std::string("\"") + key + "\" must be a string", false;
  out = v->text;
  return true;
}

bool read_number(const tool::JsonValue& doc, const char* key, double& out, std::string& error) {
  const tool::JsonValue* v = doc.find(key);
  if (v == nullptr || v->kind == Kind::null) return true;
  const auto d = v->as_double();
  if (!d || !std::isfinite(*d)) return error = std::string("\"") + key + "\" must be a number", false;
  out = *d;
  return true;
}

bool read_groups(const tool::JsonValue& doc, size_t series, tool::BarChartSpec& spec, std::string& error) {
  const tool::JsonValue* groups = doc.find("groups");
  if (groups == nullptr || !groups->is_array() || groups->items.empty())
    return error = "\"groups\" must be a non-empty array", false;
  for (const tool::JsonValue& g : groups->items) {
    tool::BarGroup group;
    if (!g.is_object() || !read_text(g, "label", group.label, error)) {
      if (error.empty()) error = "each group must be an object with a \"label\"";
      return false;
    }
    const tool::JsonValue* values = g.find("values");
    if (values == nullptr || !values->is_array() || values->items.size() != series)
      return error = "group \"" + group.label + "\" must have one value per series", false;
    for (const tool::JsonValue& v : values->items) {
      const auto d = v.as_double();
      if (v.kind != Kind::null && (!d || !std::isfinite(*d) || *d < 0))
        return error = "group \"" + group.label + "\": a value must be a number >= 0 or null", false;
      group.values.push_back(d ? *d : std::numeric_limits<double>::quiet_NaN());
    }
    spec.groups.push_back(std::move(group));
  }
  return true;
}

}  // namespace

std::variant<tool::BarChartSpec, std::string> bar_chart_from_json(std::string_view text) {
  auto parsed = tool::parse_json(text);
  if (auto* e = std::get_if<std::string>(&parsed)) return *e;
  const tool::JsonValue& doc = std::get<tool::JsonValue>(parsed);
  if (!doc.is_object()) return std::string("not a bar chart: the document must be an object");
  tool::BarChartSpec spec;
  std::string error;
  if (!read_text(doc, "title", spec.title, error) || !read_text(doc, "subtitle", spec.subtitle, error) ||
      !read_text(doc, "y_label", spec.y_label, error))
    return error;
  const tool::JsonValue* series = doc.find("series");
  if (series == nullptr || !series->is_array() || series->items.empty())
    return std::string("\"series\" must be a non-empty array of names");
  for (const tool::JsonValue& s : series->items) {
    if (!s.is_string()) return std::string("\"series\" must hold names (strings)");
    spec.series.push_back(s.text);
  }
  if (!read_groups(doc, spec.series.size(), spec, error)) return error;
  if (!read_number(doc, "reference", spec.reference, error) || !read_number(doc, "y_cap", spec.y_cap, error))
    return error;
  return spec;
}

}  // namespace ringsock_cli
