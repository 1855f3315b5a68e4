/// Charts drawn by the server as inline SVG: `role="img"`, a `<title>`, and
/// the same numbers in a table beside each (the templates put it there), so a
/// screen reader has them too. No script, nothing fetched.
enum Charts {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Horizontal bars, one a row, longest first as given.
    static func bars(title: String, _ rows: [(label: String, value: Int)]) -> String {
        let width = 640, labelWidth = 280, barHeight = 22, gap = 6
        let height = max(rows.count, 1) * (barHeight + gap) + 10
        let most = max(rows.map(\.value).max() ?? 1, 1)
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)" aria-labelledby="t\##(id(title))"><title id="t\##(id(title))">\##(escape(title))</title>"##
        for (i, row) in rows.enumerated() {
            let y = 5 + i * (barHeight + gap)
            let length = max(1, (width - labelWidth - 50) * row.value / most)
            svg += ##"<text x="\##(labelWidth - 8)" y="\##(y + 16)" text-anchor="end" font-size="13" fill="#1b1b1b">\##(escape(row.label))</text>"##
            svg += ##"<rect x="\##(labelWidth)" y="\##(y)" width="\##(length)" height="\##(barHeight)" fill="#0b4f8a"/>"##
            svg += ##"<text x="\##(labelWidth + length + 6)" y="\##(y + 16)" font-size="13" fill="#1b1b1b">\##(row.value)</text>"##
        }
        return svg + "</svg>"
    }

    /// A line through the points, left to right, with each point's value.
    static func line(title: String, _ points: [(label: String, value: Int)]) -> String {
        let width = 640, height = 240, left = 40, bottom = 40, top = 20
        let most = max(points.map(\.value).max() ?? 1, 1)
        let step = points.count > 1 ? (width - left - 20) / (points.count - 1) : 0
        func x(_ i: Int) -> Int { left + i * step }
        func y(_ v: Int) -> Int { top + (height - top - bottom) * (most - v) / most }
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)" aria-labelledby="t\##(id(title))"><title id="t\##(id(title))">\##(escape(title))</title>"##
        svg += ##"<line x1="\##(left)" y1="\##(height - bottom)" x2="\##(width - 10)" y2="\##(height - bottom)" stroke="#595959"/>"##
        let path = points.enumerated().map { "\(x($0.offset)),\(y($0.element.value))" }.joined(separator: " ")
        svg += ##"<polyline points="\##(path)" fill="none" stroke="#0b4f8a" stroke-width="3"/>"##
        for (i, point) in points.enumerated() {
            svg += ##"<circle cx="\##(x(i))" cy="\##(y(point.value))" r="4" fill="#0b4f8a"/>"##
            svg += ##"<text x="\##(x(i))" y="\##(y(point.value) - 8)" text-anchor="middle" font-size="12" fill="#1b1b1b">\##(point.value)</text>"##
            svg += ##"<text x="\##(x(i))" y="\##(height - bottom + 18)" text-anchor="middle" font-size="11" fill="#1b1b1b">\##(escape(point.label))</text>"##
        }
        return svg + "</svg>"
    }

    /// An id for the title, from its text (the page has each chart once).
    static func id(_ title: String) -> String {
        String(title.unicodeScalars.reduce(UInt32(2166136261)) { ($0 ^ $1.value) &* 16777619 }, radix: 16)
    }
}
