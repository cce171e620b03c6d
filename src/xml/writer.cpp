#include "xml/writer.hpp"

#include <cassert>

namespace tern::xml {

namespace {

// 0 = copy verbatim, otherwise the replacement for that byte.
struct EscapeTable {
    std::array<std::string_view, 256> text{};
    std::array<std::string_view, 256> attr{};
    constexpr EscapeTable()
    {
        text['&'] = "&amp;";
        text['<'] = "&lt;";
        text['>'] = "&gt;";
        text['\r'] = "&#13;";
        attr = text;
        attr['"'] = "&quot;";
        attr['\''] = "&apos;";
        attr['\t'] = "&#9;";
        attr['\n'] = "&#10;";
    }
};

constexpr EscapeTable escapes;

void append_escaped(std::string& out, std::string_view in, const std::array<std::string_view, 256>& table)
{
    std::size_t run = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const std::string_view rep = table[static_cast<unsigned char>(in[i])];
        if (rep.empty()) continue;
        out.append(in.data() + run, i - run);
        out.append(rep);
        run = i + 1;
    }
    out.append(in.data() + run, in.size() - run);
}

}  // namespace

void append_escaped_text(std::string& out, std::string_view text)
{
    append_escaped(out, text, escapes.text);
}

void append_escaped_attr(std::string& out, std::string_view value)
{
    append_escaped(out, value, escapes.attr);
}

void append_stream_header(std::string& out, std::string_view content_ns, std::initializer_list<Attribute> attrs)
{
    out += "<?xml version='1.0'?><stream:stream xmlns='";
    append_escaped_attr(out, content_ns);
    out += "' xmlns:stream='";
    out += stream_ns;
    out += '\'';
    for (const Attribute& a : attrs) {
        out += ' ';
        out += a.name;
        out += "='";
        append_escaped_attr(out, a.value);
        out += '\'';
    }
    out += '>';
}

void append_stream_close(std::string& out)
{
    out += "</stream:stream>";
}

void Writer::finish_start_tag()
{
    if (start_tag_open_) {
        out_ += '>';
        start_tag_open_ = false;
    }
}

Writer& Writer::open(std::string_view qname)
{
    finish_start_tag();
    out_ += '<';
    const Frame f{static_cast<std::uint32_t>(out_.size()), static_cast<std::uint32_t>(qname.size())};
    out_ += qname;
    if (depth_ < inline_.size())
        inline_[depth_] = f;
    else
        overflow_.push_back(f);
    ++depth_;
    start_tag_open_ = true;
    return *this;
}

Writer& Writer::attr(std::string_view qname, std::string_view value)
{
    assert(start_tag_open_ && "attr() only directly after open()");
    out_ += ' ';
    out_ += qname;
    out_ += "='";
    append_escaped_attr(out_, value);
    out_ += '\'';
    return *this;
}

Writer& Writer::text(std::string_view text)
{
    if (text.empty()) return *this;
    finish_start_tag();
    append_escaped_text(out_, text);
    return *this;
}

Writer& Writer::raw(std::string_view serialized_xml)
{
    if (serialized_xml.empty()) return *this;
    finish_start_tag();
    out_ += serialized_xml;
    return *this;
}

Writer& Writer::close()
{
    assert(depth_ > 0 && "close() without open()");
    --depth_;
    const Frame f = frame(depth_);
    if (depth_ >= inline_.size()) overflow_.pop_back();
    if (start_tag_open_) {
        out_ += "/>";
        start_tag_open_ = false;
        return *this;
    }
    out_ += "</";
    out_.append(out_, f.offset, f.size);  // self-append is well-defined
    out_ += '>';
    return *this;
}

Writer& Writer::leaf(std::string_view qname, std::string_view text)
{
    return open(qname).text(text).close();
}

void Writer::close_all()
{
    while (depth_ > 0) close();
}

}  // namespace tern::xml
