// Prints partition test vectors computed by the real Apache Kafka Java client, as JSON.
// Regenerate test/partitioners/murmur2-vectors.json with (kafka-clients and slf4j-api from ~/.m2):
//   CP=~/.m2/repository/org/apache/kafka/kafka-clients/4.1.2/kafka-clients-4.1.2.jar:~/.m2/repository/org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar
//   javac -cp "$CP" -d /tmp/m2v Murmur2Vectors.java && java -cp "$CP:/tmp/m2v" Murmur2Vectors > ../murmur2-vectors.json
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

public class Murmur2Vectors {
    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    public static void main(String[] args) {
        List<byte[]> keys = new ArrayList<>();
        String[] strings = {"", "a", "ab", "abc", "abcd", "abcde", "key-1", "key-2", "user-42", "order:2024-11-24:0001",
            "héllo wörld", "\u65e5\u672c\u8a9e", "\uD83D\uDE80 rocket", "kafka", "kafkatune", "The quick brown fox jumps over the lazy dog"};
        for (String s : strings) keys.add(s.getBytes(StandardCharsets.UTF_8));
        Random rnd = new Random(20241124L);
        for (int len = 0; len < 40; len++) {
            byte[] b = new byte[len];
            rnd.nextBytes(b);
            keys.add(b);
        }
        for (int i = 0; i < 24; i++) {
            byte[] b = new byte[1 + rnd.nextInt(300)];
            rnd.nextBytes(b);
            keys.add(b);
        }
        // All-0xff and all-0x80 bytes exercise sign extension of bytes in the Java code.
        keys.add(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        keys.add(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80});
        int[] counts = {1, 2, 3, 6, 7, 12, 16, 100, 1000, 2147483647};
        StringBuilder out = new StringBuilder();
        out.append("{\n  \"source\": \"org.apache.kafka:kafka-clients:4.1.2 BuiltInPartitioner.partitionForKey / Utils.murmur2\",\n");
        out.append("  \"partitionCounts\": [");
        for (int i = 0; i < counts.length; i++) out.append(i == 0 ? "" : ", ").append(counts[i]);
        out.append("],\n  \"vectors\": [\n");
        for (int k = 0; k < keys.size(); k++) {
            byte[] key = keys.get(k);
            out.append("    { \"keyHex\": \"").append(hex(key)).append("\", \"murmur2\": ").append(Utils.murmur2(key));
            out.append(", \"partitions\": [");
            for (int i = 0; i < counts.length; i++) {
                out.append(i == 0 ? "" : ", ").append(BuiltInPartitioner.partitionForKey(key, counts[i]));
            }
            out.append("] }").append(k == keys.size() - 1 ? "\n" : ",\n");
        }
        out.append("  ]\n}\n");
        System.out.print(out);
    }
}
