#pragma once
// Symmetric encryption of secrets at rest (libsodium secretbox: XSalsa20-Poly1305).
#include <array>
#include <filesystem>
#include <string>
#include <string_view>

namespace agentd {

class SecretBox {
public:
    static constexpr std::size_t kKeyBytes = 32;

    explicit SecretBox(const std::array<unsigned char, kKeyBytes>& key) : key_(key) {}

    /// Key from AGENTD_SECRET_KEY when set (64 hex chars are used as-is, any other
    /// text is hashed to a key); otherwise from `<data_dir>/secret.key`, created with
    /// mode 0600 on first start.
    static SecretBox from_environment_or_file(const std::filesystem::path& data_dir);

    /// nonce || ciphertext (binary).
    std::string seal(std::string_view plaintext) const;
    /// Throws std::runtime_error when the box was not sealed with this key.
    std::string open(std::string_view sealed) const;

private:
    std::array<unsigned char, kKeyBytes> key_;
};

}  // namespace agentd
