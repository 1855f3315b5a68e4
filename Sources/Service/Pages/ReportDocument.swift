import Application
import EventLog
import Foundation

/// `iplog report --html`: the dashboard as one self-contained HTML file for a
/// reporting job to mail to a unit manager — inline CSS and SVG, no script, no
/// external reference, and no person id at all (only case ids).
public enum ReportHTML {
    public static func render(_ reads: Reads, caller: Caller, asOf: BusinessDate, unit: String?, months: Int) throws -> String {
        try reads.catchUp()
        var data = try Pages.dashboard(reads, caller: caller, asOf: asOf, unit: unit, months: months)
        data["interactive"] = false
        let content = Templates.library.render(data, withTemplate: "dashboard") ?? ""
        let title = (data["heading"] as? String ?? "Fristbrudd") + " " + Words.date(asOf)
        return Templates.library.render(["title": title, "content": content] as [String: Any], withTemplate: "layout") ?? ""
    }
}
