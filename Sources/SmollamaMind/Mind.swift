/// The mind turns the sensor log into knowledge: compute first (evidence), narrate second (the
/// model phrases), verify always. Observations and memories are written as knowledge events
/// (`SmollamaCore/Knowledge.swift`), so they sync like everything else.
public enum Mind {}
