//! KMS through `aws_sdk_kms` (the [`Kms`] port).

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_sfn::error::SdkError;

use super::retry::is_retryable_code;
use crate::core::keyring::SecretKey;
use crate::ports::{Kms, KmsContext, KmsError};

fn classify_kms<E, R>(err: &SdkError<E, R>) -> KmsError
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => match service.err().code() {
            Some("InvalidCiphertextException" | "IncorrectKeyException") => {
                KmsError::InvalidCiphertext
            }
            Some(
                "KMSInternalException" | "DependencyTimeoutException" | "KeyUnavailableException",
            ) => KmsError::Unavailable(service.err().code().unwrap_or_default().to_owned()),
            None => KmsError::Unavailable("an error without a code".to_owned()),
            Some(code) if is_retryable_code(Some(code)) => KmsError::Unavailable(code.to_owned()),
            Some(code) => KmsError::Refused(code.to_owned()),
        },
        SdkError::TimeoutError(_) => KmsError::Unavailable("timed out".to_owned()),
        SdkError::DispatchFailure(_) => KmsError::Unavailable("could not connect".to_owned()),
        _ => KmsError::Unavailable("the request failed".to_owned()),
    }
}

fn context_map(context: KmsContext) -> std::collections::HashMap<String, String> {
    context
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// KMS through `aws_sdk_kms`.
#[derive(Debug, Clone)]
pub struct SdkKms {
    client: aws_sdk_kms::Client,
}

impl SdkKms {
    /// Wraps a configured client.
    pub fn new(client: aws_sdk_kms::Client) -> Self {
        Self { client }
    }

    /// A client from shared SDK configuration.
    pub fn from_config(config: &SdkConfig) -> Self {
        Self::new(aws_sdk_kms::Client::new(config))
    }
}

#[async_trait]
impl Kms for SdkKms {
    async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: KmsContext,
    ) -> Result<Vec<u8>, KmsError> {
        let out = self
            .client
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(plaintext))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|e| classify_kms(&e))?;
        out.ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| KmsError::Refused("Encrypt returned no ciphertext".to_owned()))
    }

    async fn decrypt(
        &self,
        key_id: Option<&str>,
        blob: &[u8],
        context: KmsContext,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError> {
        let out = self
            .client
            .decrypt()
            .set_key_id(key_id.map(str::to_owned))
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|e| classify_kms(&e))?;
        out.plaintext
            .map(|b| zeroize::Zeroizing::new(b.into_inner()))
            .ok_or_else(|| KmsError::Refused("Decrypt returned no plaintext".to_owned()))
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: KmsContext,
    ) -> Result<(SecretKey, Vec<u8>), KmsError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(key_id)
            .set_encryption_context(Some(context_map(context)))
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .send()
            .await
            .map_err(|e| classify_kms(&e))?;
        let plain = out
            .plaintext
            .map(|b| zeroize::Zeroizing::new(b.into_inner()))
            .ok_or_else(|| KmsError::Refused("GenerateDataKey returned no key".to_owned()))?;
        let key = SecretKey::from_slice(&plain).ok_or_else(|| {
            KmsError::Refused("GenerateDataKey returned a key of the wrong size".to_owned())
        })?;
        let wrapped = out.ciphertext_blob.map(Blob::into_inner).ok_or_else(|| {
            KmsError::Refused("GenerateDataKey returned no ciphertext".to_owned())
        })?;
        Ok((key, wrapped))
    }
}
