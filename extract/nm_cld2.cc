// nm_cld2: the C face of CLD2 (see nm_cld2.h). C++ only because CLD2's
// interface is C++; nothing here throws or allocates.
#include "nm_cld2.h"

#include <cstdio> // compact_lang_det.h uses FILE without including it
#include <cstring>

#include <cld2/public/compact_lang_det.h>

namespace {

// CLD2 keeps a few pre-2000 codes; give the ISO 639-1 ones.
const char *iso_code(CLD2::Language lang)
{
    const char *c = CLD2::LanguageCode(lang);
    if (!c || lang == CLD2::UNKNOWN_LANGUAGE || lang == CLD2::TG_UNKNOWN_LANGUAGE)
        return "und";
    if (!std::strcmp(c, "iw"))
        return "he";
    if (!std::strcmp(c, "jw"))
        return "jv";
    if (!std::strcmp(c, "zh-Hant"))
        return "zh";
    return c;
}

} // namespace

extern "C" int nm_cld2_detect(const char *text, size_t n, char code[8], bool *reliable)
{
    CLD2::Language lang3[3];
    int percent3[3];
    double score3[3];
    int text_bytes = 0, valid = 0;
    bool rel = false;
    int len = n > (size_t)(1 << 30) ? 1 << 30 : (int)n;
    CLD2::Language lang = CLD2::ExtDetectLanguageSummaryCheckUTF8(
        text, len, true, nullptr, 0, lang3, percent3, score3, nullptr, &text_bytes, &rel, &valid);
    if (valid < len && valid > 0) // stop at the first invalid byte, keep what came before
        lang = CLD2::ExtDetectLanguageSummary(text, valid, true, nullptr, 0, lang3, percent3, score3,
                                              nullptr, &text_bytes, &rel);
    const char *c = iso_code(lang);
    size_t cl = std::strlen(c);
    if (cl > 7)
        cl = 7;
    std::memcpy(code, c, cl);
    code[cl] = '\0';
    *reliable = rel;
    return std::strcmp(c, "und") ? percent3[0] : 0;
}
