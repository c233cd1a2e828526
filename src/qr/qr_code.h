// QR codes for short links (SPEC §7): the symbol from libqrencode, drawn as
// SVG (text, one path) or PNG (libpng, 1-bit grey). Pure functions: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/status.h"

namespace refgate::qr {

enum class Ecc : uint8_t { kL, kM, kQ, kH };  // recovers about 7, 15, 25, 30% of the symbol

inline constexpr int kMinSizePx = 64;
inline constexpr int kMaxSizePx = 2048;
inline constexpr int kMaxMargin = 16;  // modules of quiet zone; 4 is the standard's

// The symbol: width x width modules, row by row, 1 = dark.
struct Symbol {
  int width = 0;
  std::vector<uint8_t> dark;
  bool Dark(int x, int y) const { return dark[static_cast<size_t>(y) * width + x] != 0; }
};

// Encodes `text` as bytes (8-bit mode, mixed with the denser modes where
// libqrencode finds them), in the smallest version that holds it.
// InvalidArgument when it does not fit in a QR code at that level.
Status Encode(std::string_view text, Ecc ecc, Symbol* out);

// How a symbol is drawn: a size x size image, the symbol centred in it with
// at least `margin` light modules around it, every module a whole number
// of pixels (the same in both formats, so that they scan alike).
struct Layout {
  int size_px = 512;
  int margin = 4;
  int scale = 0;   // pixels per module
  int offset = 0;  // pixels from the image's edge to the symbol's
};

// InvalidArgument when size_px cannot give each module a pixel.
Status Fit(const Symbol& s, int size_px, int margin, Layout* out);

std::string Svg(const Symbol& s, const Layout& l);
Status Png(const Symbol& s, const Layout& l, std::string* out);

}  // namespace refgate::qr
