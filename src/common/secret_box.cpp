#include "common/secret_box.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace agentd {

namespace {

bool parse_hex_key(std::string_view text, std::array<unsigned char, SecretBox::kKeyBytes>& key) {
    if (text.size() != 2 * SecretBox::kKeyBytes) return false;
    std::size_t len = 0;
    return sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, nullptr) == 0 &&
           len == key.size();
}

}  // namespace

SecretBox SecretBox::from_environment_or_file(const std::filesystem::path& data_dir) {
    std::array<unsigned char, kKeyBytes> key{};
    if (const char* env = std::getenv("AGENTD_SECRET_KEY"); env && *env) {
        std::string_view text(env);
        if (!parse_hex_key(text, key))
            crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(text.data()),
                               text.size(), nullptr, 0);
        return SecretBox(key);
    }
    auto path = data_dir / "secret.key";
    std::ifstream in(path);
    if (in) {
        std::string text;
        std::getline(in, text);
        if (!parse_hex_key(text, key)) throw std::runtime_error("malformed key file " + path.string());
        return SecretBox(key);
    }
    crypto_secretbox_keygen(key.data());
    char hex[2 * kKeyBytes + 1];
    sodium_bin2hex(hex, sizeof hex, key.data(), key.size());
    // O_EXCL: two processes starting at once must not overwrite each other's key.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return from_environment_or_file(data_dir);
        throw std::runtime_error("cannot create key file " + path.string());
    }
    std::string line = std::string(hex) + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ok = (::fsync(fd) == 0) && ok;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write key file " + path.string());
    return SecretBox(key);
}

std::string SecretBox::seal(std::string_view plaintext) const {
    std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), nonce,
                          key_.data());
    return out;
}

std::string SecretBox::open(std::string_view sealed) const {
    if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        throw std::runtime_error("sealed secret too short");
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                   nonce + crypto_secretbox_NONCEBYTES,
                                   sealed.size() - crypto_secretbox_NONCEBYTES, nonce, key_.data()) != 0)
        throw std::runtime_error("secret does not open with this key (AGENTD_SECRET_KEY changed?)");
    return out;
}

}  // namespace agentd
