#include "xml/tokenizer.hpp"

#include <algorithm>

#include "xml/chars.hpp"

namespace tern::xml {

using detail::is_space;

enum class Tokenizer::State : std::uint8_t {
    Prolog,        // before the stream header: whitespace, `<?xml ...?>` first, then the root start tag
    XmlDecl,       // inside `<?xml ... ?>`
    AfterDecl,     // between the XML declaration and the root start tag
    Between,       // depth 0 inside the stream: whitespace keepalives or '<'
    Closed,        // after `</stream:stream>`
    Lt,            // after '<'
    StartName,
    InTag,         // in a start tag, after the name or an attribute value
    AttrName,
    AfterAttrName,
    BeforeValue,
    AttrValue,
    EmptySlash,    // after '/' in a start tag
    EndName,
    AfterEndName,
    Text,
    Ref,           // after '&'
    EntityName,
    CharRef,       // after "&#"
    CharRefDec,
    CharRefHex,
    Bang,          // after "<!"
    BangDash,      // after "<!-"
    CdataOpen,     // matching "CDATA["
    Cdata,
    Failed,
};

namespace {

enum class NameScan { Done, More, Invalid, TooLong };

// Advances i over the name that starts at `start`, stopping at the first byte that cannot continue it.
[[gnu::always_inline]] inline NameScan scan_name(const unsigned char* b, std::size_t& i, std::size_t end, std::size_t start, std::size_t max)
{
    const std::size_t stop = std::min(end, start + max + 1);
    if (i == start && i < stop && b[i] < 0x80) {
        if (!detail::has_class(b[i], detail::k_name_start)) return NameScan::Invalid;
        ++i;
    }
    for (;;) {
        while (i < stop && detail::has_class(b[i], detail::k_name)) ++i;
        if (i >= stop || b[i] < 0x80) break;
        std::uint32_t cp = 0;
        const int n = detail::decode_utf8(b + i, b + end, cp);
        if (n == 0) return NameScan::More;
        if (n < 0 || !(i == start ? detail::is_name_start(cp) : detail::is_name_char(cp))) return NameScan::Invalid;
        i += static_cast<std::size_t>(n);
    }
    if (i - start > max) return NameScan::TooLong;
    if (i >= end) return NameScan::More;
    return i == start ? NameScan::Invalid : NameScan::Done;
}

// Length of the prefix of a QName (0 if unprefixed), or -1 if it is not a valid QName.
[[gnu::always_inline]] inline int qname_prefix(std::string_view name) noexcept
{
    std::size_t colon = 0;
    while (colon < name.size() && name[colon] != ':') ++colon;  // names are short: cheaper than memchr
    if (colon == name.size()) return 0;
    if (colon == 0 || colon + 1 == name.size() || name.find(':', colon + 1) != std::string_view::npos) return -1;
    const auto next = static_cast<unsigned char>(name[colon + 1]);
    // The local part must itself start with a NameStartChar (digits, '-' and '.' can't).
    if (next < 0x80 && !detail::has_class(next, detail::k_name_start)) return -1;
    return static_cast<int>(colon);
}

bool predefined_entity(std::string_view name) noexcept
{
    return name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos";
}

// Appends an attribute value that the scanner already validated: references expanded, literal tab, LF and
// CR normalized to space (XML 1.0 §3.3.3).
void append_attr_value(std::string& out, std::string_view raw)
{
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c != '&') {
            out += (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
            continue;
        }
        const std::size_t semi = raw.find(';', i);
        const std::string_view ref = raw.substr(i + 1, semi - i - 1);
        i = semi;
        if (ref[0] == '#') {
            const bool hex = ref[1] == 'x';
            std::uint32_t v = 0;
            for (char d : ref.substr(hex ? 2 : 1)) {
                const std::uint32_t digit = d <= '9' ? static_cast<std::uint32_t>(d - '0')
                                                     : static_cast<std::uint32_t>((d | 0x20) - 'a' + 10);
                v = std::min<std::uint32_t>(v * (hex ? 16 : 10) + digit, 0x110000);
            }
            detail::append_utf8(out, v);
        } else if (ref == "amp") {
            out += '&';
        } else if (ref == "lt") {
            out += '<';
        } else if (ref == "gt") {
            out += '>';
        } else if (ref == "quot") {
            out += '"';
        } else {
            out += '\'';
        }
    }
}

bool iequals_ascii(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? x | 0x20 : x) == (y >= 'A' && y <= 'Z' ? y | 0x20 : y);
           });
}

}  // namespace

// ---- StreamHeader ----------------------------------------------------------------------------------

std::string_view StreamHeader::local_name() const noexcept
{
    const std::string_view q = qname();
    const std::size_t colon = q.find(':');
    return colon == std::string_view::npos ? q : q.substr(colon + 1);
}

std::string_view StreamHeader::attr(std::string_view qname) const noexcept
{
    for (const Attr& a : attrs_)
        if (view(a.qname) == qname) return view(a.value);
    return {};
}

bool StreamHeader::has_attr(std::string_view qname) const noexcept
{
    return std::any_of(attrs_.begin(), attrs_.end(), [&](const Attr& a) { return view(a.qname) == qname; });
}

StreamHeader::Span StreamHeader::store(std::string_view s)
{
    const Span span{static_cast<std::uint32_t>(data_.size()), static_cast<std::uint32_t>(s.size())};
    data_ += s;
    return span;
}

void StreamHeader::clear() noexcept
{
    std::string().swap(data_);
    std::vector<Attr>().swap(attrs_);
    qname_ = {};
    in_streams_ns_ = false;
    scope_.clear();
}

void StreamHeader::drop_attributes()
{
    std::string qname(qname_.size > 0 ? view(qname_) : std::string_view{});
    data_.swap(qname);
    qname_ = {0, static_cast<std::uint32_t>(data_.size())};
    std::vector<Attr>().swap(attrs_);
}

// ---- Tokenizer -------------------------------------------------------------------------------------

Tokenizer::Tokenizer(Limits limits) : limits_(limits), state_(State::Prolog), ref_return_(State::Text)
{
    // Offsets inside an element are 32-bit, name sizes and depths 16-bit.
    limits_.max_stanza_bytes = std::min<std::size_t>(limits_.max_stanza_bytes, UINT32_MAX);
    limits_.max_header_bytes = std::min<std::size_t>(limits_.max_header_bytes, UINT32_MAX);
    limits_.max_name_bytes = std::min<std::size_t>(limits_.max_name_bytes, UINT16_MAX);
    limits_.max_depth = std::min<std::size_t>(limits_.max_depth, UINT16_MAX);
}

void Tokenizer::feed(std::string_view bytes)
{
    if (phase_ == Phase::Failed) return;
    if (!in_element_ && consumed_ == buf_.size() &&
        (state_ == State::Prolog || state_ == State::Between || state_ == State::Closed)) {
        std::size_t k = 0;
        while (k < bytes.size() && is_space(static_cast<unsigned char>(bytes[k]))) ++k;
        bytes.remove_prefix(k);
    }
    if (bytes.empty()) return;
    if (consumed_ > 0) {
        buf_.erase(0, consumed_);
        pos_ -= consumed_;
        elem_start_ = elem_start_ >= consumed_ ? elem_start_ - consumed_ : 0;
        consumed_ = 0;
        // A past big stanza must not pin its buffer for the rest of the session.
        if (buf_.capacity() > 16384 && buf_.capacity() > 4 * (buf_.size() + bytes.size())) buf_.shrink_to_fit();
    }
    buf_.append(bytes);
}

Event Tokenizer::next()
{
    if (phase_ == Phase::Failed) return {EventKind::Error, {}};
    if (pending_close_) {
        pending_close_ = false;
        return {EventKind::StreamClose, {}};
    }
    const Event ev = scan();
    if (ev.kind == EventKind::NeedMore) release_if_idle();
    return ev;
}

void Tokenizer::restart()
{
    if (phase_ == Phase::Failed) return;
    pos_ = consumed_;
    in_element_ = false;
    decl_allowed_ = true;
    pending_close_ = false;
    phase_ = Phase::Prolog;
    state_ = State::Prolog;
    scratch_.reset();
    header_.clear();
}

std::size_t Tokenizer::unconsumed() const noexcept
{
    std::size_t k = consumed_;
    while (k < buf_.size() && is_space(static_cast<unsigned char>(buf_[k]))) ++k;
    return buf_.size() - k;
}

std::size_t Tokenizer::heap_bytes() const noexcept
{
    const auto string_heap = [](const std::string& s) { return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0; };
    std::size_t n = string_heap(buf_);
    if (scratch_) {
        n += sizeof(Scratch) + scratch_->open.heap_bytes() + scratch_->attrs.heap_bytes() +
             scratch_->ns_decls.capacity() * sizeof(NsDecl);
    }
    n += string_heap(header_.data_) + header_.attrs_.capacity() * sizeof(StreamHeader::Attr);
    for (std::size_t i = 0; i < header_.scope_.size(); ++i) {
        const auto [p, u] = header_.scope_.binding(i);
        n += p.size() + u.size() + 2;
    }
    return n;
}

void Tokenizer::release_if_idle()
{
    if (in_element_ || consumed_ != buf_.size()) return;
    std::string().swap(buf_);
    consumed_ = pos_ = elem_start_ = 0;
    scratch_.reset();
}

Event Tokenizer::fail(ErrorCondition condition, std::string text)
{
    phase_ = Phase::Failed;
    state_ = State::Failed;
    error_ = Error{condition, std::move(text)};
    std::string().swap(buf_);
    consumed_ = pos_ = elem_start_ = 0;
    in_element_ = false;
    scratch_.reset();
    return {EventKind::Error, {}};
}

Event Tokenizer::emit(EventKind kind, std::size_t end)
{
    pos_ = end;
    const Event ev{kind, std::string_view(buf_).substr(elem_start_, end - elem_start_),
                   kind != EventKind::Stanza || stanza_has_prefixes_};
    consumed_ = end;
    in_element_ = false;
    return ev;
}

bool Tokenizer::is_duplicate(std::string_view name) const noexcept
{
    for (std::size_t k = 0; k + 1 < scratch_->attrs.size(); ++k)
        if (rel(scratch_->attrs[k].name, scratch_->attrs[k].name_size) == name) return true;
    return false;
}

std::optional<std::string_view> Tokenizer::prefix_uri(std::string_view prefix, bool header) const noexcept
{
    if (!header) {
        for (auto it = scratch_->ns_decls.rbegin(); it != scratch_->ns_decls.rend(); ++it)
            if (rel(it->prefix, it->size) == prefix) return rel(it->uri, it->uri_size);
    }
    return header_.scope_.lookup(prefix);
}

// Namespaces in XML checks for a start tag: validates its prefix declarations (recording them for a
// stanza), then checks that every prefix it uses is declared (here, on an ancestor inside the stanza, or on
// the stream header) and that no two attributes have the same expanded name.
bool Tokenizer::check_names(bool header)
{
    for (std::size_t j = 0; j < scratch_->attrs.size(); ++j) {
        const AttrRec& a = scratch_->attrs[j];
        if (a.prefix_size != 5 || rel(a.name, 5) != "xmlns") continue;
        const std::string_view prefix = rel(a.name + 6, a.name_size - 6u);
        const std::string_view value = rel(a.value, a.value_size);
        if (prefix == "xmlns" || value.empty() || (prefix == "xml") != (value == xml_ns) || value == xmlns_ns) {
            fail(ErrorCondition::NotWellFormed, "illegal namespace declaration for prefix '" + std::string(prefix) + "'");
            return false;
        }
        if (!header) {
            scratch_->ns_decls.push_back({a.name + 6u, static_cast<std::uint16_t>(prefix.size()),
                                          static_cast<std::uint16_t>(scratch_->open.size()), a.value, a.value_size});
        }
    }
    if (current_prefix_ > 0) {
        const std::string_view prefix = rel(current_.name, current_prefix_);
        if (prefix == "xmlns") {
            fail(ErrorCondition::NotWellFormed, "element name with the xmlns prefix");
            return false;
        }
        if (!header && !prefix_uri(prefix, false)) {
            fail(ErrorCondition::NotWellFormed, "undeclared namespace prefix '" + std::string(prefix) + "'");
            return false;
        }
    }
    std::size_t prefixed = 0;
    for (std::size_t j = 0; j < scratch_->attrs.size(); ++j) {
        const AttrRec& a = scratch_->attrs[j];
        if (a.prefix_size == 0) continue;
        const std::string_view prefix = rel(a.name, a.prefix_size);
        if (prefix == "xmlns" || prefix == "xml") continue;
        if (!prefix_uri(prefix, header)) {
            fail(ErrorCondition::NotWellFormed, "undeclared namespace prefix '" + std::string(prefix) + "'");
            return false;
        }
        ++prefixed;
    }
    return prefixed < 2 || check_expanded_duplicates(header);
}

// `p:a` and `q:a` with p and q bound to the same URI are duplicates (rare: only runs with two or more
// prefixed attributes on one element).
bool Tokenizer::check_expanded_duplicates(bool header)
{
    struct Expanded {
        std::string uri;
        std::string_view local;
    };
    std::vector<Expanded> seen;
    for (std::size_t j = 0; j < scratch_->attrs.size(); ++j) {
        const AttrRec& a = scratch_->attrs[j];
        if (a.prefix_size == 0) continue;
        const std::string_view name = rel(a.name, a.name_size);
        const std::string_view prefix = name.substr(0, a.prefix_size);
        if (prefix == "xmlns" || prefix == "xml") continue;
        Expanded e{{}, name.substr(a.prefix_size + 1u)};
        const std::string_view raw = *prefix_uri(prefix, header);
        if (header)
            e.uri = raw;
        else
            append_attr_value(e.uri, raw);
        for (const Expanded& other : seen) {
            if (other.local == e.local && other.uri == e.uri) {
                fail(ErrorCondition::NotWellFormed, "duplicate attribute '" + std::string(name) + "'");
                return false;
            }
        }
        seen.push_back(std::move(e));
    }
    return true;
}

bool Tokenizer::build_header()
{
    header_.clear();
    const std::string_view qname = rel(current_.name, current_.size);
    header_.qname_ = header_.store(qname);
    std::string value;
    for (std::size_t j = 0; j < scratch_->attrs.size(); ++j) {
        const AttrRec& a = scratch_->attrs[j];
        const std::string_view name = rel(a.name, a.name_size);
        value.clear();
        append_attr_value(value, rel(a.value, a.value_size));
        header_.attrs_.push_back({header_.store(name), header_.store(value)});
        if (name == "xmlns")
            header_.scope_.bind({}, value);
        else if (a.prefix_size == 5 && name.substr(0, 5) == "xmlns")
            header_.scope_.bind(name.substr(6), value);
    }
    if (!check_names(true)) return false;
    const std::string_view prefix = qname.substr(0, current_prefix_);
    const std::optional<std::string_view> uri = header_.scope_.lookup(prefix);
    if (!uri || *uri != stream_ns) {
        fail(ErrorCondition::InvalidNamespace, "stream element is not in the " + std::string(stream_ns) + " namespace");
        return false;
    }
    if (header_.local_name() != "stream") {
        fail(ErrorCondition::BadFormat, "root element is <" + std::string(qname) + ">, not a stream");
        return false;
    }
    header_.in_streams_ns_ = true;
    return true;
}

// `decl` is what follows "<?xml" up to "?>" (it starts with whitespace).
bool Tokenizer::parse_xml_declaration(std::string_view decl)
{
    const auto skip_space = [&] {
        std::size_t k = 0;
        while (k < decl.size() && is_space(static_cast<unsigned char>(decl[k]))) ++k;
        decl.remove_prefix(k);
        return k > 0;
    };
    // Parses ` name = 'value'` if `name` comes next.
    const auto pseudo_attr = [&](std::string_view name, std::string_view& value) -> bool {
        std::string_view rest = decl;
        std::size_t k = 0;
        while (k < rest.size() && is_space(static_cast<unsigned char>(rest[k]))) ++k;
        if (k == 0 || rest.substr(k, name.size()) != name) return false;
        rest.remove_prefix(k + name.size());
        const auto trim = [&] {
            while (!rest.empty() && is_space(static_cast<unsigned char>(rest[0]))) rest.remove_prefix(1);
        };
        trim();
        if (rest.empty() || rest[0] != '=') return false;
        rest.remove_prefix(1);
        trim();
        if (rest.empty() || (rest[0] != '\'' && rest[0] != '"')) return false;
        const std::size_t close = rest.find(rest[0], 1);
        if (close == std::string_view::npos) return false;
        value = rest.substr(1, close - 1);
        decl = rest.substr(close + 1);
        return true;
    };
    std::string_view version;
    std::string_view encoding;
    std::string_view standalone;
    const bool ok_version = pseudo_attr("version", version) && version.size() >= 3 && version.substr(0, 2) == "1." &&
                            std::all_of(version.begin() + 2, version.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok_version) {
        fail(ErrorCondition::NotWellFormed, "malformed XML declaration");
        return false;
    }
    const bool has_encoding = pseudo_attr("encoding", encoding);
    const bool has_standalone = pseudo_attr("standalone", standalone);
    skip_space();
    if (!decl.empty() || (has_standalone && standalone != "yes" && standalone != "no") ||
        (has_encoding && encoding.empty())) {
        fail(ErrorCondition::NotWellFormed, "malformed XML declaration");
        return false;
    }
    if (has_encoding && !iequals_ascii(encoding, "UTF-8")) {
        fail(ErrorCondition::UnsupportedEncoding, "encoding '" + std::string(encoding) + "' is not supported");
        return false;
    }
    return true;
}

bool Tokenizer::finish_start_tag(bool empty, Event& out)
{
    if (phase_ == Phase::Header) {
        if (!build_header()) return out = {EventKind::Error, {}}, true;
        scratch_->attrs.clear();
        out = emit(EventKind::StreamOpen, pos_);
        if (empty) {
            pending_close_ = true;
            phase_ = Phase::Closed;
            state_ = State::Closed;
        } else {
            phase_ = Phase::Stream;
            state_ = State::Between;
        }
        return true;
    }
    if (tag_has_prefixes_) {
        if (!check_names(false)) return out = {EventKind::Error, {}}, true;
        stanza_has_prefixes_ = true;
    }
    scratch_->attrs.clear();
    if (!empty) {
        state_ = State::Text;
        return false;
    }
    scratch_->open.pop_back();
    pop_ns_decls();
    if (!scratch_->open.empty()) {
        state_ = State::Text;
        return false;
    }
    state_ = State::Between;
    out = emit(EventKind::Stanza, pos_);
    return true;
}

// The declarations of the element just closed go out of scope.
void Tokenizer::pop_ns_decls() noexcept
{
    auto& decls = scratch_->ns_decls;
    while (!decls.empty() && decls.back().depth > scratch_->open.size()) decls.pop_back();
}

bool Tokenizer::end_tag(Event& out)
{
    const std::string_view name = rel(current_.name, current_.size);
    if (phase_ == Phase::Header) {
        out = fail(ErrorCondition::NotWellFormed, "end tag before the stream header");
        return true;
    }
    if (scratch_->open.empty()) {
        if (name != header_.qname()) {
            out = fail(ErrorCondition::NotWellFormed, "end tag </" + std::string(name) + "> does not close the stream");
            return true;
        }
        phase_ = Phase::Closed;
        state_ = State::Closed;
        out = emit(EventKind::StreamClose, pos_);
        return true;
    }
    const OpenElem top = scratch_->open.back();
    if (name != rel(top.name, top.size)) {
        out = fail(ErrorCondition::NotWellFormed, "end tag </" + std::string(name) + "> does not match <" +
                                                      std::string(rel(top.name, top.size)) + ">");
        return true;
    }
    scratch_->open.pop_back();
    pop_ns_decls();
    if (!scratch_->open.empty()) {
        state_ = State::Text;
        return false;
    }
    scratch_->ns_decls.clear();
    state_ = State::Between;
    out = emit(EventKind::Stanza, pos_);
    return true;
}

Event Tokenizer::scan()
{
    const auto* const b = reinterpret_cast<const unsigned char*>(buf_.data());
    const std::size_t size = buf_.size();
    std::size_t i = pos_;
    std::size_t end = in_element_ ? std::min(size, elem_start_ + limit_) : size;
    Event ev;

    const auto start_element = [&](std::size_t at, std::size_t limit) {
        if (!scratch_) scratch_ = std::make_unique<Scratch>();
        in_element_ = true;
        elem_start_ = at;
        limit_ = limit;
        end = std::min(size, at + limit);
    };
    const auto here = [&] { return static_cast<std::uint32_t>(i - elem_start_); };
    const auto bad = [&](std::string text) { return fail(ErrorCondition::NotWellFormed, std::move(text)); };
    const auto name_error = [&](NameScan r, const char* what) {
        if (r == NameScan::TooLong) return fail(ErrorCondition::PolicyViolation, std::string(what) + " longer than the limit");
        return bad(std::string("invalid ") + what);
    };
    // Multi-byte UTF-8 character in content: 1 = consumed, 0 = need more bytes, -1 = failed.
    const auto content_utf8 = [&]() -> int {
        std::uint32_t cp = 0;
        const int n = detail::decode_utf8(b + i, b + end, cp);
        if (n > 0) i += static_cast<std::size_t>(n);
        return n > 0 ? 1 : n;
    };

    while (i < end) {
        switch (state_) {
        case State::Prolog: {
            while (i < end && is_space(b[i])) ++i;
            consumed_ = i;
            if (i >= end) break;
            if (b[i] != '<') return bad("text before the stream header");
            if (decl_allowed_) {
                constexpr std::string_view decl = "<?xml";
                const std::string_view have(buf_.data() + i, std::min<std::size_t>(size - i, decl.size() + 1));
                if (have.size() <= decl.size()) {
                    if (decl.substr(0, have.size()) == have) goto need_more;
                } else if (have.substr(0, decl.size()) == decl && is_space(static_cast<unsigned char>(have.back()))) {
                    decl_allowed_ = false;
                    phase_ = Phase::Header;
                    start_element(i, limits_.max_header_bytes);
                    i += decl.size() + 1;
                    state_ = State::XmlDecl;
                    break;
                }
            }
            decl_allowed_ = false;
            phase_ = Phase::Header;
            start_element(i, limits_.max_header_bytes);
            ++i;
            state_ = State::Lt;
            break;
        }
        case State::XmlDecl: {
            bool done = false;
            for (; i < end; ++i) {
                const unsigned char c = b[i];
                if (c == '>' && b[i - 1] == '?') {
                    done = true;
                    break;
                }
                if (c >= 0x7F || (c < 0x20 && !is_space(c))) return bad("invalid byte in the XML declaration");
            }
            if (!done) break;
            const std::size_t body = elem_start_ + 5;
            if (!parse_xml_declaration(std::string_view(buf_).substr(body, i - 1 - body))) return {EventKind::Error, {}};
            ++i;
            state_ = State::AfterDecl;
            break;
        }
        case State::AfterDecl: {
            while (i < end && is_space(b[i])) ++i;
            if (i >= end) break;
            if (b[i] != '<') return bad("text before the stream header");
            ++i;
            state_ = State::Lt;
            break;
        }
        case State::Between: {
            while (i < end && is_space(b[i])) ++i;
            consumed_ = i;
            if (i >= end) break;
            if (b[i] != '<') return bad("text at stream level");
            start_element(i, limits_.max_stanza_bytes);
            stanza_has_prefixes_ = false;
            ++i;
            state_ = State::Lt;
            goto lt;
        }
        case State::Closed: {
            while (i < end && is_space(b[i])) ++i;
            consumed_ = i;
            if (i < end) return bad("data after the stream was closed");
            break;
        }
        // The common path moves between the states below with goto instead of a round trip through the
        // switch: each label is entered with state_ already set, and re-checks for the end of the data.
        case State::Lt:
        lt : {
            if (i >= end) break;
            const unsigned char c = b[i];
            if (c == '/') {
                ++i;
                mark_ = here();
                state_ = State::EndName;
                goto end_name;
            }
            if (c == '!') {
                ++i;
                state_ = State::Bang;
                break;
            }
            if (c == '?') return fail(ErrorCondition::RestrictedXml, "processing instruction");
            if (phase_ != Phase::Header && scratch_->open.size() >= limits_.max_depth)
                return fail(ErrorCondition::PolicyViolation, "elements nested deeper than the limit");
            mark_ = here();
            scratch_->attrs.clear();
            attr_keys_ = 0;
            tag_has_prefixes_ = false;
            state_ = State::StartName;
            [[fallthrough]];
        }
        case State::StartName: {
            const NameScan r = scan_name(b, i, end, elem_start_ + mark_, limits_.max_name_bytes);
            if (r == NameScan::More) goto need_more;
            if (r != NameScan::Done) return name_error(r, "element name");
            const std::string_view name = rel(mark_, i - elem_start_ - mark_);
            const int prefix = qname_prefix(name);
            if (prefix < 0) return bad("invalid qualified name '" + std::string(name) + "'");
            current_ = {mark_, static_cast<std::uint32_t>(name.size())};
            current_prefix_ = static_cast<std::uint16_t>(prefix);
            tag_has_prefixes_ = prefix > 0;
            if (phase_ != Phase::Header) scratch_->open.push_back(current_);
            had_space_ = false;
            state_ = State::InTag;
            [[fallthrough]];
        }
        case State::InTag:
        in_tag : {
            while (i < end && is_space(b[i])) {
                had_space_ = true;
                ++i;
            }
            if (i >= end) break;
            const unsigned char c = b[i];
            if (c == '>') {
                pos_ = ++i;
                if (finish_start_tag(false, ev)) return ev;
                goto text;  // finish_start_tag set state_ = Text
            }
            if (c == '/') {
                ++i;
                state_ = State::EmptySlash;
                break;
            }
            if (!had_space_) return bad("attributes must be separated by whitespace");
            if (scratch_->attrs.size() >= limits_.max_attributes)
                return fail(ErrorCondition::PolicyViolation, "more attributes than the limit");
            mark_ = here();
            state_ = State::AttrName;
            [[fallthrough]];
        }
        case State::AttrName: {
            const NameScan r = scan_name(b, i, end, elem_start_ + mark_, limits_.max_name_bytes);
            if (r == NameScan::More) goto need_more;
            if (r != NameScan::Done) return name_error(r, "attribute name");
            const std::string_view name = rel(mark_, i - elem_start_ - mark_);
            const int prefix = qname_prefix(name);
            if (prefix < 0) return bad("invalid qualified name '" + std::string(name) + "'");
            if (prefix > 0 && !(prefix == 3 && name.substr(0, 3) == "xml")) tag_has_prefixes_ = true;
            AttrRec& rec = scratch_->attrs.push_slot();
            rec.name = mark_;
            rec.name_size = static_cast<std::uint16_t>(name.size());
            rec.prefix_size = static_cast<std::uint16_t>(prefix);
            rec.value = 0;
            rec.value_size = 0;
            const std::uint64_t key = std::uint64_t{1} << ((name.size() * 7 + static_cast<unsigned char>(name.back())) & 63);
            if ((attr_keys_ & key) != 0 && is_duplicate(name))
                return bad("duplicate attribute '" + std::string(name) + "'");
            attr_keys_ |= key;
            state_ = State::AfterAttrName;
            [[fallthrough]];
        }
        case State::AfterAttrName: {
            while (i < end && is_space(b[i])) ++i;
            if (i >= end) break;
            if (b[i] != '=') return bad("expected '=' after attribute name");
            ++i;
            state_ = State::BeforeValue;
            [[fallthrough]];
        }
        case State::BeforeValue: {
            while (i < end && is_space(b[i])) ++i;
            if (i >= end) break;
            if (b[i] != '\'' && b[i] != '"') return bad("attribute value must be quoted");
            quote_ = static_cast<char>(b[i]);
            ++i;
            scratch_->attrs.back().value = here();
            state_ = State::AttrValue;
            [[fallthrough]];
        }
        case State::AttrValue:
        attr_value : {
            i = detail::skip_attr(b, i, end, quote_);
            if (i >= end) break;
            const unsigned char c = b[i];
            if (c == static_cast<unsigned char>(quote_)) {
                scratch_->attrs.back().value_size = here() - scratch_->attrs.back().value;
                ++i;
                had_space_ = false;
                state_ = State::InTag;
                goto in_tag;
            }
            if (c == '<') return bad("'<' in attribute value");
            if (c == '&') {
                ++i;
                ref_return_ = State::AttrValue;
                state_ = State::Ref;
                break;
            }
            if (c == '\'' || c == '"' || is_space(c)) {
                ++i;
                goto attr_value;
            }
            if (c < 0x80) return bad("invalid XML character in attribute value");
            const int r = content_utf8();
            if (r == 0) goto need_more;
            if (r < 0) return bad("invalid UTF-8 or XML character in attribute value");
            goto attr_value;
        }
        case State::EmptySlash: {
            if (b[i] != '>') return bad("expected '>' after '/'");
            pos_ = ++i;
            if (finish_start_tag(true, ev)) return ev;
            goto text;
        }
        case State::EndName:
        end_name : {
            const NameScan r = scan_name(b, i, end, elem_start_ + mark_, limits_.max_name_bytes);
            if (r == NameScan::More) goto need_more;
            if (r != NameScan::Done) return name_error(r, "end tag name");
            current_ = {mark_, here() - mark_};
            state_ = State::AfterEndName;
            [[fallthrough]];
        }
        case State::AfterEndName: {
            while (i < end && is_space(b[i])) ++i;
            if (i >= end) break;
            if (b[i] != '>') return bad("expected '>' in end tag");
            pos_ = ++i;
            if (end_tag(ev)) return ev;
            [[fallthrough]];  // end_tag set state_ = Text
        }
        case State::Text:
        text : {
            i = detail::skip_text(b, i, end);
            if (i >= end) break;
            const unsigned char c = b[i];
            if (c == '<') {
                ++i;
                state_ = State::Lt;
                goto lt;
            }
            if (c == '&') {
                ++i;
                ref_return_ = State::Text;
                state_ = State::Ref;
                break;
            }
            if (c == '>') {
                if (b[i - 1] == ']' && b[i - 2] == ']') return bad("']]>' in character data");
                ++i;
                goto text;
            }
            if (is_space(c)) {
                ++i;
                goto text;
            }
            if (c < 0x80) return bad("invalid XML character in text");
            const int r = content_utf8();
            if (r == 0) goto need_more;
            if (r < 0) return bad("invalid UTF-8 or XML character in text");
            goto text;
        }
        case State::Ref: {
            const unsigned char c = b[i];
            if (c == '#') {
                ++i;
                state_ = State::CharRef;
            } else if (c < 0x80 && detail::has_class(c, detail::k_name_start)) {
                mark_ = here();
                state_ = State::EntityName;
            } else if (c >= 0x80) {
                return fail(ErrorCondition::RestrictedXml, "reference to an undefined entity");
            } else {
                return bad("'&' that does not start a reference");
            }
            break;
        }
        case State::EntityName: {
            const std::size_t start = elem_start_ + mark_;
            while (i < end && b[i] < 0x80 && detail::has_class(b[i], detail::k_name)) {
                if (++i - start > limits_.max_name_bytes)
                    return fail(ErrorCondition::PolicyViolation, "entity name longer than the limit");
            }
            if (i >= end) break;
            if (b[i] != ';') {
                if (b[i] >= 0x80) return fail(ErrorCondition::RestrictedXml, "reference to an undefined entity");
                return bad("entity reference without ';'");
            }
            const std::string_view name = rel(mark_, i - start);
            if (!predefined_entity(name))
                return fail(ErrorCondition::RestrictedXml, "reference to undefined entity '" + std::string(name) + "'");
            ++i;
            state_ = ref_return_;
            break;
        }
        case State::CharRef: {
            const unsigned char c = b[i];
            if (c == 'x') {
                ++i;
                mark_ = here();
                state_ = State::CharRefHex;
            } else if (c >= '0' && c <= '9') {
                mark_ = here();
                state_ = State::CharRefDec;
            } else {
                return bad("malformed character reference");
            }
            break;
        }
        case State::CharRefDec:
        case State::CharRefHex: {
            const bool hex = state_ == State::CharRefHex;
            const std::size_t start = elem_start_ + mark_;
            const auto digit = [hex](unsigned char c) {
                return (c >= '0' && c <= '9') || (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'));
            };
            while (i < end && digit(b[i])) {
                if (++i - start > limits_.max_name_bytes)
                    return fail(ErrorCondition::PolicyViolation, "character reference longer than the limit");
            }
            if (i >= end) break;
            if (b[i] != ';' || i == start) return bad("malformed character reference");
            std::uint32_t v = 0;
            for (std::size_t k = start; k < i; ++k) {
                const unsigned c = b[k];
                const std::uint32_t d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
                v = std::min<std::uint32_t>(v * (hex ? 16 : 10) + d, 0x110000);
            }
            if (!detail::is_xml_char(v)) return bad("character reference to a character not allowed in XML");
            ++i;
            state_ = ref_return_;
            break;
        }
        case State::Bang: {
            const unsigned char c = b[i];
            if (c == '-') {
                ++i;
                state_ = State::BangDash;
            } else if (c == '[') {
                if (scratch_->open.empty()) return bad("CDATA section at stream level");
                ++i;
                match_ = 0;
                state_ = State::CdataOpen;
            } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
                return fail(ErrorCondition::RestrictedXml, "document type or markup declaration");
            } else {
                return bad("invalid markup after '<!'");
            }
            break;
        }
        case State::BangDash: {
            if (b[i] != '-') return bad("invalid markup after '<!-'");
            return fail(ErrorCondition::RestrictedXml, "comment");
        }
        case State::CdataOpen: {
            constexpr std::string_view cdata = "CDATA[";
            while (i < end && match_ < cdata.size()) {
                if (b[i] != static_cast<unsigned char>(cdata[match_])) return bad("invalid markup after '<!['");
                ++i;
                ++match_;
            }
            if (match_ == cdata.size()) {
                mark_ = here();
                state_ = State::Cdata;
            }
            break;
        }
        case State::Cdata: {
            i = detail::skip_cdata(b, i, end);
            if (i >= end) break;
            const unsigned char c = b[i];
            if (c == '>') {
                if (here() >= mark_ + 2 && b[i - 1] == ']' && b[i - 2] == ']') state_ = State::Text;
                ++i;
            } else if (c >= 0x80) {
                const int r = content_utf8();
                if (r == 0) goto need_more;
                if (r < 0) return bad("invalid UTF-8 or XML character in CDATA section");
            } else if (is_space(c)) {
                ++i;
            } else {
                return bad("invalid XML character in CDATA section");
            }
            break;
        }
        case State::Failed:
            return {EventKind::Error, {}};
        }
    }

need_more:
    pos_ = i;
    if (in_element_ && end - elem_start_ >= limit_) {
        return fail(ErrorCondition::PolicyViolation,
                    phase_ == Phase::Header ? "stream header larger than the limit" : "stanza larger than the limit");
    }
    return {EventKind::NeedMore, {}};
}

}  // namespace tern::xml
