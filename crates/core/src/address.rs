//! Mail addresses and domains as this service accepts them: for `notify`
//! recipients and senders, and for approver rules.

/// Whether `address` is a plain mail address (`local@domain`). SES checks
/// deliverability; this refuses what cannot be an address, or could
/// smuggle a second header or recipient.
pub fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"@".contains(c));
    local_ok && is_domain(domain)
}

/// Whether `domain` is a DNS name of at least two labels, in ASCII.
pub fn is_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The part after the last `@` (empty when there is none).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_domains() {
        for good in ["alice@example.com", "a.b+tag@mail.example.co.uk"] {
            assert!(is_address(good), "{good}");
        }
        for bad in [
            "alice",
            "@example.com",
            "alice@localhost",
            "alice@exa mple.com",
            "a,b@example.com",
            "alice@example..com",
            "\"x\"@example.com",
        ] {
            assert!(!is_address(bad), "{bad}");
        }
        assert!(is_domain("example.com") && !is_domain("example") && !is_domain("-"));
        assert_eq!(domain_of("alice@example.com"), "example.com");
        assert_eq!(domain_of("alice"), "");
    }
}
