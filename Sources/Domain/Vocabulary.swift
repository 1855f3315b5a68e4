/// The closed lists of values in the event catalogue (docs/RULES.md). Raw values are the
/// stored spelling, written out so that renaming a case never changes stored data.

/// A service one can ask for and be granted.
public enum Service: String, CaseIterable, Sendable, Hashable {
    case individualPlan = "individualPlan"
    case coordinator = "coordinator"
    case childCoordinator = "childCoordinator"
}

/// How a case came to the municipality.
public enum Origin: String, CaseIterable, Sendable {
    case application = "application"
    /// Health personnel reported a need (helsepersonelloven §38a).
    case needReported = "needReported"
    /// The municipality opened it on its own initiative.
    case ownInitiative = "ownInitiative"
}

/// What a consent covers.
public enum ConsentScope: String, CaseIterable, Sendable, Hashable {
    case individualPlan = "individualPlan"
    case coordinator = "coordinator"
    case informationSharing = "informationSharing"
}

/// Who gave a consent.
public enum ConsentGiver: String, CaseIterable, Sendable {
    case person = "person"
    case parent = "parent"
    case guardian = "guardian"
    case representative = "representative"
}

/// A decision's answer for one service.
public enum Verdict: String, CaseIterable, Sendable {
    case granted = "granted"
    case denied = "denied"
    case notRequested = "notRequested"
}

public enum Channel: String, CaseIterable, Sendable {
    case digital = "digital"
    case post = "post"
}

/// Who decided an appeal.
public enum AppealBody: String, CaseIterable, Sendable {
    case municipality = "municipality"
    /// Statsforvalteren (earlier Fylkesmannen).
    case countyGovernor = "countyGovernor"
}

/// An appeal's outcome, as schema version 2 of `AppealDecided` names it.
/// Version 1 had `upheld` where version 2 says `confirmed` (an upheld appeal
/// read to many as one that won), and no `quashed`, `dismissed` or `withdrawn`.
public enum AppealOutcome: String, CaseIterable, Sendable {
    /// *Stadfestet*: the decision stands.
    case confirmed = "confirmed"
    /// *Omgjort*.
    case reversed = "reversed"
    case partlyReversed = "partlyReversed"
    /// *Opphevet*: the case goes back to the municipality, as before the decision.
    case quashed = "quashed"
    /// *Avvist*: the appeal is not heard.
    case dismissed = "dismissed"
    /// *Trukket*: the person withdrew the appeal.
    case withdrawn = "withdrawn"

    /// Version 1's name still read (from the log, and on input): the upcast.
    public static let formerNames: [String: AppealOutcome] = ["upheld": .confirmed]

    /// Reopens a denied case for a new decision (the rules apply again).
    public var reopensDenial: Bool { self == .reversed || self == .partlyReversed || self == .quashed }
}

public enum Horizon: String, CaseIterable, Sendable {
    case short = "short"
    case long = "long"
}

public enum CloseReason: String, CaseIterable, Sendable {
    case needEnded = "needEnded"
    case personRequested = "personRequested"
    case movedAway = "movedAway"
    case deceased = "deceased"
    case consentWithdrawn = "consentWithdrawn"
    case other = "other"
}

/// A case's status (the status table of docs/RULES.md).
public enum CaseStatus: String, CaseIterable, Sendable {
    case received = "received"
    case assessed = "assessed"
    case decided = "decided"
    case active = "active"
    case closed = "closed"
    case denied = "denied"

    /// Neither closed nor denied: the person's one open case.
    public var isOpen: Bool { self != .closed && self != .denied }
}
