//! How ids and timestamps are encoded in each database, so that one row type serves both
//! backends.
//!
//! - SQLite: ids are hyphenated lower-case TEXT (never 16-byte BLOBs); timestamps are
//!   INTEGER microseconds since the Unix epoch, which sort and compare exactly.
//! - PostgreSQL: ids are native `UUID`, timestamps native `TIMESTAMPTZ` (microseconds).
//! - MySQL / MariaDB: ids are hyphenated lower-case `CHAR(36)` (as on SQLite), timestamps
//!   `DATETIME(6)` holding UTC (the column has no zone: the store writes and reads UTC, so
//!   the session's `time_zone` never shifts a value).

use sqlx::{
    Decode, Encode, MySql, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    mysql::{MySqlTypeInfo, MySqlValueRef},
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
    sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef},
};
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::{Uuid, fmt::Hyphenated};

use crate::model::{A2AClientId, ActivityId, ApiKeyId, OAuthTokenId, TenantId, UserId};

/// A point in time as the store writes it: UTC, whole microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Microseconds since the Unix epoch.
    pub(crate) fn micros(self) -> i64 {
        // Within the years 1..=9999 that the store accepts, this fits easily in an i64.
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
    }

    fn from_micros(micros: i64) -> Result<Self, BoxDynError> {
        Ok(Self(OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(micros) * 1_000,
        )?))
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        Self(crate::clock::truncate(at))
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(at: Timestamp) -> Self {
        at.0
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode(self.micros(), buf)
    }
}

impl Decode<'_, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Self::from_micros(<i64 as Decode<Sqlite>>::decode(value)?)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Self(<OffsetDateTime as Decode<Postgres>>::decode(value)?))
    }
}

impl Type<MySql> for Timestamp {
    fn type_info() -> MySqlTypeInfo {
        <PrimitiveDateTime as Type<MySql>>::type_info()
    }

    fn compatible(ty: &MySqlTypeInfo) -> bool {
        <PrimitiveDateTime as Type<MySql>>::compatible(ty)
    }
}

impl Encode<'_, MySql> for Timestamp {
    fn encode_by_ref(&self, buf: &mut Vec<u8>) -> Result<IsNull, BoxDynError> {
        let utc = self.0.to_offset(time::UtcOffset::UTC);
        <PrimitiveDateTime as Encode<MySql>>::encode(
            PrimitiveDateTime::new(utc.date(), utc.time()),
            buf,
        )
    }
}

impl Decode<'_, MySql> for Timestamp {
    fn decode(value: MySqlValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Self(
            <PrimitiveDateTime as Decode<MySql>>::decode(value)?.assume_utc(),
        ))
    }
}

macro_rules! uuid_codec {
    ($($id:ty),+) => {$(
        impl Type<Sqlite> for $id {
            fn type_info() -> SqliteTypeInfo {
                <Hyphenated as Type<Sqlite>>::type_info()
            }

            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <String as Type<Sqlite>>::compatible(ty)
            }
        }

        impl Encode<'_, Sqlite> for $id {
            fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
                <Hyphenated as Encode<Sqlite>>::encode(self.into_inner().hyphenated(), buf)
            }
        }

        impl Decode<'_, Sqlite> for $id {
            fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
                Ok(Self::from(<Hyphenated as Decode<Sqlite>>::decode(value)?.into_uuid()))
            }
        }

        impl Type<Postgres> for $id {
            fn type_info() -> PgTypeInfo {
                <Uuid as Type<Postgres>>::type_info()
            }
        }

        impl Encode<'_, Postgres> for $id {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <Uuid as Encode<Postgres>>::encode(self.into_inner(), buf)
            }
        }

        impl Decode<'_, Postgres> for $id {
            fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
                Ok(Self::from(<Uuid as Decode<Postgres>>::decode(value)?))
            }
        }

        impl Type<MySql> for $id {
            fn type_info() -> MySqlTypeInfo {
                <str as Type<MySql>>::type_info()
            }

            fn compatible(ty: &MySqlTypeInfo) -> bool {
                <str as Type<MySql>>::compatible(ty)
            }
        }

        impl Encode<'_, MySql> for $id {
            fn encode_by_ref(&self, buf: &mut Vec<u8>) -> Result<IsNull, BoxDynError> {
                let mut text = Uuid::encode_buffer();
                let text: &str = self.into_inner().hyphenated().encode_lower(&mut text);
                <&str as Encode<MySql>>::encode(text, buf)
            }
        }

        impl Decode<'_, MySql> for $id {
            fn decode(value: MySqlValueRef<'_>) -> Result<Self, BoxDynError> {
                Ok(Self::from(Uuid::parse_str(<&str as Decode<MySql>>::decode(value)?)?))
            }
        }
    )+};
}

uuid_codec!(
    UserId,
    TenantId,
    ApiKeyId,
    A2AClientId,
    ActivityId,
    OAuthTokenId
);
