import Testing
@testable import SmollamaMind
