// QR drawing: the symbol from libqrencode, laid out and drawn pixel-exact.
// (That phones can read it is tests/e2e/test_qr.py's: zbarimg decodes it.)
#include "qr/qr_code.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>

namespace refgate::qr {
namespace {

constexpr std::string_view kUrl = "http://127.0.0.1:8080/Ab3xY9k?qr=1";

Symbol Encoded(std::string_view text = kUrl, Ecc ecc = Ecc::kM) {
  Symbol s;
  EXPECT_TRUE(Encode(text, ecc, &s).ok());
  return s;
}

// Whether pixel (x, y) of the drawing should be dark.
bool ShouldBeDark(const Symbol& s, const Layout& l, int x, int y) {
  const int end = l.offset + s.width * l.scale;
  if (x < l.offset || y < l.offset || x >= end || y >= end) return false;
  return s.Dark((x - l.offset) / l.scale, (y - l.offset) / l.scale);
}

TEST(QrEncode, GivesASymbolWithFinderPatterns) {
  const Symbol s = Encoded();
  ASSERT_GE(s.width, 21);
  EXPECT_EQ(s.width % 4, 1);  // 17 + 4 x version
  ASSERT_EQ(s.dark.size(), static_cast<size_t>(s.width * s.width));
  // The three 7x7 finders: dark ring, light ring, dark 3x3 centre.
  for (auto [cx, cy] : {std::pair{0, 0}, {s.width - 7, 0}, {0, s.width - 7}}) {
    EXPECT_TRUE(s.Dark(cx, cy));
    EXPECT_TRUE(s.Dark(cx + 6, cy + 6));
    EXPECT_FALSE(s.Dark(cx + 1, cy + 1));
    EXPECT_TRUE(s.Dark(cx + 3, cy + 3));
  }
}

TEST(QrEncode, MoreCorrectionNeedsAtLeastAsManyModules) {
  int last = 0;
  for (Ecc e : {Ecc::kL, Ecc::kM, Ecc::kQ, Ecc::kH}) {
    const int w = Encoded(kUrl, e).width;
    EXPECT_GE(w, last);
    last = w;
  }
  EXPECT_GT(Encoded(std::string(200, 'a'), Ecc::kM).width, Encoded().width);
}

TEST(QrEncode, TextTooLongForAnyVersionIsInvalid) {
  Symbol s;
  EXPECT_TRUE(Encode(std::string(2000, 'x'), Ecc::kH, &s).IsInvalidArgument());
}

TEST(QrFit, EveryModuleGetsWholePixelsAndTheMarginAtLeast) {
  const Symbol s = Encoded();
  const int modules = s.width + 8;
  Layout l;
  ASSERT_TRUE(Fit(s, 512, 4, &l).ok());
  EXPECT_EQ(l.scale, 512 / modules);
  EXPECT_EQ(l.offset, (512 - l.scale * s.width) / 2);
  EXPECT_GE(l.offset, 4 * l.scale);
  ASSERT_TRUE(Fit(s, modules, 4, &l).ok());  // one pixel a module, exactly
  EXPECT_EQ(l.scale, 1);
  EXPECT_EQ(l.offset, 4);
  EXPECT_TRUE(Fit(s, modules - 1, 4, &l).IsInvalidArgument());
  ASSERT_TRUE(Fit(s, s.width, 0, &l).ok());
  EXPECT_EQ(l.offset, 0);
}

TEST(QrPng, IsTheLayoutPixelForPixel) {
  const Symbol s = Encoded();
  for (auto [size, margin] : {std::pair{64, 0}, {300, 4}, {512, 16}, {2048, 4}}) {
    Layout l;
    ASSERT_TRUE(Fit(s, size, margin, &l).ok());
    std::string png;
    ASSERT_TRUE(Png(s, l, &png).ok());
    png_image img{};
    img.version = PNG_IMAGE_VERSION;
    ASSERT_TRUE(png_image_begin_read_from_memory(&img, png.data(), png.size()));
    EXPECT_EQ(img.width, static_cast<png_uint_32>(size));
    EXPECT_EQ(img.height, static_cast<png_uint_32>(size));
    img.format = PNG_FORMAT_GRAY;
    std::vector<png_byte> px(PNG_IMAGE_SIZE(img));
    ASSERT_TRUE(png_image_finish_read(&img, nullptr, px.data(), 0, nullptr));
    int wrong = 0;
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const bool dark = px[static_cast<size_t>(y) * size + x] < 128;
        wrong += dark != ShouldBeDark(s, l, x, y);
      }
    }
    EXPECT_EQ(wrong, 0) << size << " px, margin " << margin;
  }
}

TEST(QrSvg, ItsRectanglesCoverExactlyTheDarkPixels) {
  const Symbol s = Encoded(kUrl, Ecc::kH);
  Layout l;
  ASSERT_TRUE(Fit(s, 400, 4, &l).ok());
  const std::string svg = Svg(s, l);
  EXPECT_TRUE(
      svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" "
                      "height=\"400\" viewBox=\"0 0 400 400\""))
      << svg.substr(0, 120);
  const size_t d = svg.find(" d=\"");
  ASSERT_NE(d, std::string::npos);
  std::vector<int> cover(400 * 400, 0);
  const char* p = svg.c_str() + d + 4;
  int x, y, w, h, w2, n;
  while (std::sscanf(p, "M%d,%dh%dv%dh%dz%n", &x, &y, &w, &h, &w2, &n) == 5) {
    EXPECT_EQ(w2, -w);
    for (int yy = y; yy < y + h; ++yy) {
      for (int xx = x; xx < x + w; ++xx) ++cover[yy * 400 + xx];
    }
    p += n;
  }
  EXPECT_EQ(std::string_view(p).substr(0, 3), "\"/>");  // the whole path was read
  int wrong = 0;
  for (int yy = 0; yy < 400; ++yy) {
    for (int xx = 0; xx < 400; ++xx) {
      wrong += cover[yy * 400 + xx] != (ShouldBeDark(s, l, xx, yy) ? 1 : 0);
    }
  }
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace refgate::qr
