#include "qr/qr_code.h"

#include <png.h>
#include <qrencode.h>

#include <cerrno>
#include <csetjmp>

namespace refgate::qr {
namespace {

QRecLevel Level(Ecc e) {
  switch (e) {
    case Ecc::kL:
      return QR_ECLEVEL_L;
    case Ecc::kM:
      return QR_ECLEVEL_M;
    case Ecc::kQ:
      return QR_ECLEVEL_Q;
    case Ecc::kH:
      break;
  }
  return QR_ECLEVEL_H;
}

void AppendInt(std::string* out, int v) { out->append(std::to_string(v)); }

void WriteToString(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), n);
}

void NoFlush(png_structp) {}

// One pixel row of module row `my` (or of the quiet zone when my < 0),
// 1 bit a pixel, most significant first; 1 is light in grey PNGs.
void PackRow(const Symbol& s, const Layout& l, int my, std::vector<png_byte>* row) {
  row->assign((l.size_px + 7) / 8, 0xff);
  if (my < 0) return;
  for (int mx = 0; mx < s.width; ++mx) {
    if (!s.Dark(mx, my)) continue;
    for (int x = l.offset + mx * l.scale, end = x + l.scale; x < end; ++x) {
      (*row)[x / 8] &= static_cast<png_byte>(~(0x80 >> (x % 8)));
    }
  }
}

}  // namespace

Status Encode(std::string_view text, Ecc ecc, Symbol* out) {
  const std::string z(text);  // libqrencode wants it NUL-terminated
  QRcode* code = QRcode_encodeString(z.c_str(), 0, Level(ecc), QR_MODE_8, /*casesensitive=*/1);
  if (code == nullptr) {
    if (errno == ERANGE) return Status::InvalidArgument("too long for a QR code");
    return Status::IOError("libqrencode failed");
  }
  out->width = code->width;
  out->dark.resize(static_cast<size_t>(code->width) * code->width);
  for (size_t i = 0; i < out->dark.size(); ++i) out->dark[i] = code->data[i] & 1;
  QRcode_free(code);
  return Status::OK();
}

Status Fit(const Symbol& s, int size_px, int margin, Layout* out) {
  const int modules = s.width + 2 * margin;
  if (size_px < modules) {
    return Status::InvalidArgument("must be at least " + std::to_string(modules) +
                                   ": this code's symbol is that many modules wide with its "
                                   "margin, and each module needs a pixel");
  }
  out->size_px = size_px;
  out->margin = margin;
  out->scale = size_px / modules;
  out->offset = (size_px - out->scale * s.width) / 2;
  return Status::OK();
}

std::string Svg(const Symbol& s, const Layout& l) {
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"";
  for (const char* part : {"\" height=\"", "\" viewBox=\"0 0 ", " "}) {
    AppendInt(&out, l.size_px);
    out += part;
  }
  AppendInt(&out, l.size_px);
  out += "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>";
  out += "<path fill=\"#000\" d=\"";
  // A rectangle per horizontal run of dark modules.
  for (int y = 0; y < s.width; ++y) {
    for (int x = 0; x < s.width;) {
      if (!s.Dark(x, y)) {
        ++x;
        continue;
      }
      const int start = x;
      while (x < s.width && s.Dark(x, y)) ++x;
      out += 'M';
      AppendInt(&out, l.offset + start * l.scale);
      out += ',';
      AppendInt(&out, l.offset + y * l.scale);
      out += 'h';
      AppendInt(&out, (x - start) * l.scale);
      out += 'v';
      AppendInt(&out, l.scale);
      out += 'h';
      AppendInt(&out, -(x - start) * l.scale);
      out += 'z';
    }
  }
  out += "\"/></svg>\n";
  return out;
}

Status Png(const Symbol& s, const Layout& l, std::string* out) {
  // Everything libpng reads is built before setjmp: its errors longjmp
  // back here, past no destructor.
  std::vector<std::vector<png_byte>> module_rows(s.width + 1);
  PackRow(s, l, -1, &module_rows[s.width]);
  for (int my = 0; my < s.width; ++my) PackRow(s, l, my, &module_rows[my]);
  std::vector<png_bytep> rows(l.size_px, module_rows[s.width].data());
  for (int y = l.offset; y < l.offset + s.width * l.scale; ++y) {
    rows[y] = module_rows[(y - l.offset) / l.scale].data();
  }
  out->clear();
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return Status::IOError("libpng: out of memory");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return Status::IOError("libpng: out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return Status::IOError("libpng failed");
  }
  png_set_write_fn(png, out, WriteToString, NoFlush);
  png_set_IHDR(png, info, l.size_px, l.size_px, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return Status::OK();
}

}  // namespace refgate::qr
