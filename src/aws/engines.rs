//! The [`Engine`] port: each call goes to the engine its token names, so a
//! Step Functions link never reaches Lambda's API, nor a durable link Step
//! Functions'.

use async_trait::async_trait;
use aws_config::SdkConfig;

use super::{SdkDurableCallbacks, SdkStepFunctions};
use crate::core::token::Token;
use crate::ports::{Engine, EngineError};

/// Step Functions for task tokens, Lambda for durable callback IDs.
#[derive(Debug, Clone)]
pub struct SdkEngines {
    step_functions: SdkStepFunctions,
    durable: SdkDurableCallbacks,
}

impl SdkEngines {
    /// Both adapters, as configured.
    pub fn new(step_functions: SdkStepFunctions, durable: SdkDurableCallbacks) -> Self {
        Self {
            step_functions,
            durable,
        }
    }

    /// Both clients from shared SDK configuration.
    pub fn from_config(config: &SdkConfig) -> Self {
        Self::new(
            SdkStepFunctions::from_config(config),
            SdkDurableCallbacks::from_config(config),
        )
    }
}

#[async_trait]
impl Engine for SdkEngines {
    async fn succeed(&self, token: &Token, output: &str) -> Result<(), EngineError> {
        match token {
            Token::Task(task) => self.step_functions.succeed(task, output).await,
            Token::Callback(id) => self.durable.succeed(id, output).await,
        }
    }

    async fn fail(
        &self,
        token: &Token,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), EngineError> {
        match token {
            Token::Task(task) => self.step_functions.fail(task, error, cause).await,
            Token::Callback(id) => self.durable.fail(id, error, cause).await,
        }
    }

    async fn heartbeat(&self, token: &Token) -> Result<(), EngineError> {
        match token {
            Token::Task(task) => self.step_functions.heartbeat(task).await,
            Token::Callback(id) => self.durable.heartbeat(id).await,
        }
    }
}
