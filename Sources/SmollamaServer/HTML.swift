/// Markup that is already safe to send. Only `HTML.escape` and the builders here make it, so a
/// value from the store (a node name, a sensor name, a log line) can never become markup.
struct HTML: Sendable, CustomStringConvertible {
    private(set) var raw: String

    init(trusted raw: String) { self.raw = raw }
    init(escaping text: String) { raw = HTML.escape(text) }
    static let empty = HTML(trusted: "")

    var description: String { raw }

    /// Escapes the five characters that matter in text and in quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(trusted: lhs.raw + rhs.raw) }
    static func += (lhs: inout HTML, rhs: HTML) { lhs.raw += rhs.raw }

    static func join(_ parts: some Sequence<HTML>, separator: String = "") -> HTML {
        HTML(trusted: parts.map(\.raw).joined(separator: separator))
    }
}

/// `html("<p>\(name)</p>")`: interpolated values are escaped unless they are already `HTML`.
struct HTMLInterpolation: StringInterpolationProtocol {
    var raw = ""
    init(literalCapacity: Int, interpolationCount: Int) { raw.reserveCapacity(literalCapacity * 2) }
    mutating func appendLiteral(_ literal: String) { raw += literal }
    mutating func appendInterpolation(_ value: HTML) { raw += value.raw }
    mutating func appendInterpolation(_ value: String) { raw += HTML.escape(value) }
    mutating func appendInterpolation(_ value: some BinaryInteger) { raw += String(value) }
    mutating func appendInterpolation(_ value: String?) { raw += HTML.escape(value ?? "") }
}

extension HTML: ExpressibleByStringInterpolation {
    init(stringLiteral value: String) { raw = value }
    init(stringInterpolation: HTMLInterpolation) { raw = stringInterpolation.raw }
}

/// The frame around every page: head, navigation, the embedded stylesheet and script.
enum Layout {
    enum Tab: String, CaseIterable {
        case overview = "Overview", sensors = "Sensors", log = "Log", thoughts = "Thoughts", memories = "Memories"
        case compare = "Compare", ask = "Ask"
        var path: String {
            switch self {
            case .overview: "/"
            case .sensors: "/sensors"
            case .log: "/log"
            case .thoughts: "/thoughts"
            case .memories: "/memories"
            case .compare: "/compare"
            case .ask: "/ask"
            }
        }

        /// A hub's home is the household's; compare and ask are the hub's.
        static func shown(hub: Bool) -> [Tab] { hub ? allCases : [.overview, .sensors, .log, .thoughts, .memories] }
        func label(hub: Bool) -> String { hub && self == .overview ? "Home" : rawValue }
    }

    static func page(title: String, node: NodeInfo, tab: Tab?, body: HTML, signedIn: Bool = false) -> HTML {
        let nav = HTML.join(Tab.shown(hub: node.isHub).map { item in
            let current: HTML = item == tab ? " aria-current=\"page\"" : .empty
            return "<a href=\"\(item.path)\"\(current)>\(item.label(hub: node.isHub))</a>"
        })
        let logout: HTML = signedIn
            ? "<form method=\"post\" action=\"/logout\" class=\"logout\"><button>Sign out</button></form>" : .empty
        let role = node.isHub ? "hub" : "node"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · \(node.name)</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/assets/app.css">
            <script src="/assets/app.js" defer></script>
            </head><body>
            <header><div class="brand"><span class="logo">◐</span> smollama <span class="node">\(node.name)</span> <span class="role">\(role)</span></div>
            <nav>\(nav)</nav>\(logout)</header>
            <main>\(body)</main>
            <footer>Served by this node. Nothing on this page comes from the internet.</footer>
            </body></html>
            """
    }
}
