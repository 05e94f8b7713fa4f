//! lunli's own engine functions for the quality passes: exact value counts (an aggregate),
//! trimming that leaves unpadded batches alone, and row fingerprints for the duplicate pass.

use crate::source::next_batch;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeBinaryArray, FixedSizeBinaryBuilder, RecordBatch, StringArray, StructArray,
    UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, UInt64Type};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{HashMap, ScalarValue};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use std::sync::Arc;

/// An aggregate counting each distinct value of one text column: a list of (value, count),
/// sorted by value, missing values left out. Counting every column of a chunk this way takes one
/// pass whatever the number of columns, where the engine's grouping sets stop at 64 columns
/// and cost each row as many group keys as there are columns.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ValueCounts {
    signature: Signature,
}

impl ValueCounts {
    pub(super) fn new() -> Self {
        Self { signature: Signature::exact(vec![DataType::Utf8View], Volatility::Immutable) }
    }

    fn entry_fields() -> Fields {
        Fields::from(vec![Field::new("value", DataType::Utf8, false), Field::new("n", DataType::UInt64, false)])
    }
}

impl AggregateUDFImpl for ValueCounts {
    fn name(&self) -> &str {
        "lunli_value_counts"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Struct(Self::entry_fields()), true))))
    }

    fn accumulator(&self, _: AccumulatorArgs) -> datafusion::error::Result<Box<dyn Accumulator>> {
        Ok(Box::new(ValueCounter::default()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> datafusion::error::Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new_list(
                format!("{}[values]", args.name),
                Field::new_list_field(DataType::Utf8, true),
                true,
            )),
            Arc::new(Field::new_list(
                format!("{}[counts]", args.name),
                Field::new_list_field(DataType::UInt64, true),
                true,
            )),
        ])
    }
}

#[derive(Debug, Default)]
pub(super) struct ValueCounter {
    counts: HashMap<String, u64>,
    /// Bytes of the values held, for the engine's memory accounting.
    bytes: usize,
}

impl ValueCounter {
    fn add(&mut self, value: &str, n: u64) {
        match self.counts.get_mut(value) {
            Some(count) => *count += n,
            None => {
                self.bytes += value.len();
                self.counts.insert(value.to_string(), n);
            }
        }
    }

    fn sorted(&self) -> Vec<(&String, u64)> {
        let mut entries: Vec<(&String, u64)> = self.counts.iter().map(|(v, n)| (v, *n)).collect();
        entries.sort_unstable();
        entries
    }
}

impl Accumulator for ValueCounter {
    fn update_batch(&mut self, values: &[ArrayRef]) -> datafusion::error::Result<()> {
        for array in values {
            let text = cast(array, &DataType::Utf8View)?;
            for value in text.as_string_view().iter().flatten() {
                self.add(value, 1);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> datafusion::error::Result<()> {
        let [values, counts] = states else {
            return Err(datafusion::error::DataFusionError::Internal(
                "value counts: two state columns expected".into(),
            ));
        };
        let (values, counts) = (values.as_list::<i32>(), counts.as_list::<i32>());
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let (v, n) = (values.value(row), counts.value(row));
            let (v, n) = (v.as_string::<i32>(), n.as_primitive::<UInt64Type>());
            for k in 0..v.len() {
                self.add(v.value(k), n.value(k));
            }
        }
        Ok(())
    }

    fn state(&mut self) -> datafusion::error::Result<Vec<ScalarValue>> {
        let entries = self.sorted();
        let values = StringArray::from_iter_values(entries.iter().map(|(v, _)| v.as_str()));
        let counts = UInt64Array::from_iter_values(entries.iter().map(|(_, n)| *n));
        Ok(vec![
            SingleRowListArrayBuilder::new(Arc::new(values)).build_list_scalar(),
            SingleRowListArrayBuilder::new(Arc::new(counts)).build_list_scalar(),
        ])
    }

    fn evaluate(&mut self) -> datafusion::error::Result<ScalarValue> {
        let entries = self.sorted();
        let values = StringArray::from_iter_values(entries.iter().map(|(v, _)| v.as_str()));
        let counts = UInt64Array::from_iter_values(entries.iter().map(|(_, n)| *n));
        let entries =
            StructArray::try_new(ValueCounts::entry_fields(), vec![Arc::new(values), Arc::new(counts)], None)?;
        Ok(SingleRowListArrayBuilder::new(Arc::new(entries)).build_list_scalar())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.bytes + self.counts.capacity() * std::mem::size_of::<(String, u64)>()
    }
}

/// The engine's `btrim` on string views, except that a batch in which no value starts or ends
/// with a space is handed back as it is. Most data is not padded, and building a trimmed copy of
/// every text column in every pass was a sixth of the audit's time.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct TrimSpaces {
    signature: Signature,
}

impl TrimSpaces {
    pub(super) fn new() -> Self {
        Self { signature: Signature::exact(vec![DataType::Utf8View], Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for TrimSpaces {
    fn name(&self) -> &str {
        "lunli_trim_spaces"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> datafusion::error::Result<ColumnarValue> {
        if let [ColumnarValue::Array(array)] = args.args.as_slice()
            && let Some(values) = array.as_string_view_opt()
            && !values.iter().flatten().any(|v| v.starts_with(' ') || v.ends_with(' '))
        {
            return Ok(ColumnarValue::Array(array.clone()));
        }
        datafusion::functions::string::btrim().invoke_with_args(args)
    }
}

/// One partition of a scan of every column, each row replaced by its fingerprint `h`: its
/// values hashed to 16 bytes (XXH3-128). Two rows that differ collide with probability about
/// 2⁻¹²⁸ — for a billion rows, a miscount chance below 10⁻²⁰.
#[derive(Debug)]
pub(super) struct RowFingerprints {
    pub(super) scan: Arc<dyn ExecutionPlan>,
    pub(super) partition: usize,
    pub(super) schema: SchemaRef,
}

impl RowFingerprints {
    pub(super) fn table_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("h", DataType::FixedSizeBinary(16), false)]))
    }
}

impl PartitionStream for RowFingerprints {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let (scan, partition, schema) = (self.scan.clone(), self.partition, self.schema.clone());
        builder.spawn(async move {
            let mut rows = scan.execute(partition, ctx)?;
            while let Some(batch) = next_batch(&mut rows).await {
                let batch = batch?;
                let fingerprints = fingerprints(batch.columns(), batch.num_rows())?;
                let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(fingerprints)])?;
                if tx.send(Ok(batch)).await.is_err() {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// The fingerprint of each of `rows` rows of `columns`: their values as text, each written as
/// a presence byte, then (when present) its length and bytes, hashed with XXH3-128.
pub(super) fn fingerprints(columns: &[ArrayRef], rows: usize) -> datafusion::error::Result<FixedSizeBinaryArray> {
    let texts: Vec<ArrayRef> = columns
        .iter()
        .map(|a| cast(a, &DataType::Utf8View))
        .collect::<Result<_, datafusion::arrow::error::ArrowError>>()?;
    let texts: Vec<_> = texts.iter().map(|a| a.as_string_view()).collect();
    let mut builder = FixedSizeBinaryBuilder::with_capacity(rows, 16);
    let mut buffer = Vec::with_capacity(256);
    for r in 0..rows {
        buffer.clear();
        for t in &texts {
            if t.is_null(r) {
                buffer.push(0);
            } else {
                let v = t.value(r).as_bytes();
                buffer.push(1);
                buffer.extend_from_slice(&(v.len() as u64).to_le_bytes());
                buffer.extend_from_slice(v);
            }
        }
        builder.append_value(xxhash_rust::xxh3::xxh3_128(&buffer).to_le_bytes())?;
    }
    Ok(builder.finish())
}
