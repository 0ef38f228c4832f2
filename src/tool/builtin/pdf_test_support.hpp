#pragma once
// Small, valid PDF documents for the PDF tests: one page per string, each line
// of a page drawn in Helvetica (so text extraction gives the lines back).
#include <string>
#include <vector>

namespace agentd::tool::testing {

inline std::string make_pdf(const std::vector<std::string>& pages) {
    std::vector<std::string> objects;
    std::string kids;
    for (std::size_t i = 0; i < pages.size(); ++i)
        kids += (i ? " " : "") + std::to_string(4 + 2 * i) + " 0 R";
    objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
    objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " +
                      std::to_string(pages.size()) + " >>");
    objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    for (std::size_t i = 0; i < pages.size(); ++i) {
        objects.push_back(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
            ">> "
            ">> /Contents " +
            std::to_string(5 + 2 * i) + " 0 R >>");
        std::string ops = "BT /F1 12 Tf 72 720 Td 14 TL";
        std::size_t start = 0;
        const std::string& text = pages[i];
        while (start <= text.size()) {
            const auto nl = text.find('\n', start);
            const std::string line =
                text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            ops += " (" + line + ") Tj T*";
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
        ops += " ET";
        objects.push_back("<< /Length " + std::to_string(ops.size()) + " >>\nstream\n" + ops +
                          "\nendstream");
    }
    std::string out = "%PDF-1.4\n";
    std::vector<std::size_t> offsets;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        offsets.push_back(out.size());
        out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
    }
    const std::size_t xref = out.size();
    out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (std::size_t offset : offsets) {
        std::string number = std::to_string(offset);
        out += std::string(10 - number.size(), '0') + number + " 00000 n \n";
    }
    out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
           " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

/// `count` pages reading "Page <n>" and "line two".
inline std::string numbered_pdf(std::size_t count) {
    std::vector<std::string> pages;
    for (std::size_t i = 1; i <= count; ++i)
        pages.push_back("Page " + std::to_string(i) + "\nline two");
    return make_pdf(pages);
}

}  // namespace agentd::tool::testing
