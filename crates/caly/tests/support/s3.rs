//! A stand-in S3 for tests: moto's server (PyPI `moto[server]`) on loopback, speaking the S3
//! protocol over HTTP; what it holds is read back with boto3, a client nobody here wrote.

use std::process::Stdio;

use caly::config::RecordingsConfig;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

pub const BUCKET: &str = "caly-recordings";
const REGION: &str = "ap-south-1";
const ACCESS_KEY_ID: &str = "AKIDCALYTESTS";
const SECRET_ACCESS_KEY: &str = "secret key for the stand-in S3";

pub struct S3 {
    pub endpoint: String,
    python: String,
    _server: tokio::process::Child,
}

impl S3 {
    /// Starts moto on a free port with one empty bucket, [`BUCKET`].
    pub async fn start(python: &str) -> Self {
        let mut server = tokio::process::Command::new(python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("moto's server starts (pip install 'moto[server]')");
        let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
        let endpoint = loop {
            let line = lines.next_line().await.unwrap().expect("moto says where it listens");
            if let Some(at) = line.find("http://127.0.0.1:") {
                break line[at..].trim().to_owned();
            }
        };
        // The server logs every request to stderr: drained, so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let s3 = Self { endpoint, python: python.to_owned(), _server: server };
        s3.boto3("s3.create_bucket(Bucket=a['bucket'], CreateBucketConfiguration={'LocationConstraint': REGION})");
        s3
    }

    /// Caly's configuration for the bucket, keys under `prefix`.
    pub fn config(&self, prefix: &str) -> RecordingsConfig {
        RecordingsConfig {
            s3_bucket: Some(BUCKET.into()),
            s3_endpoint: Some(self.endpoint.clone()),
            s3_region: Some(REGION.into()),
            s3_access_key_id: Some(ACCESS_KEY_ID.into()),
            s3_secret_access_key: Some(SECRET_ACCESS_KEY.into()),
            s3_prefix: Some(prefix.into()),
        }
    }

    /// Every object in the bucket, key and bytes, as boto3 reads them.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        use base64::Engine as _;
        let script = "import base64\n\
                      listed = s3.list_objects_v2(Bucket=a['bucket']).get('Contents', [])\n\
                      print(json.dumps([[o['Key'], base64.b64encode(s3.get_object(Bucket=a['bucket'], \
                      Key=o['Key'])['Body'].read()).decode()] for o in listed]))";
        let listed: Vec<(String, String)> = serde_json::from_str(&self.boto3(script)).unwrap();
        let base64 = base64::engine::general_purpose::STANDARD;
        listed.into_iter().map(|(key, body)| (key, base64.decode(body).unwrap())).collect()
    }

    /// The parts an object was uploaded in, from its ETag (`"<md5>-<parts>"` after a multipart
    /// upload); 1 for an object put whole.
    pub fn parts(&self, key: &str) -> usize {
        let script = format!("print(s3.head_object(Bucket=a['bucket'], Key={key:?})['ETag'])");
        let etag = self.boto3(&script);
        etag.trim_matches('"').split_once('-').map_or(1, |(_, parts)| parts.parse().unwrap())
    }

    fn boto3(&self, script: &str) -> String {
        let prelude = "import json, sys, boto3\n\
                       a = json.load(sys.stdin)\n\
                       REGION = a['region']\n\
                       s3 = boto3.client('s3', endpoint_url=a['endpoint'], region_name=REGION, \
                       aws_access_key_id='id', aws_secret_access_key='key')\n";
        let input = json!({"endpoint": self.endpoint, "bucket": BUCKET, "region": REGION});
        super::carrier::run_python(&self.python, &format!("{prelude}{script}"), input)
    }
}
