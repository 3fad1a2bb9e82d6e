/// The release version: `smollama --version`, the package's file name (`scripts/package`) and the
/// upgrade check of `install.sh`. Raised with each release.
public enum SmollamaVersion {
    public static let current = "0.18.0"
}
