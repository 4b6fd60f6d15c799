using System.Text;

namespace OrleansSynth.ML.Tests;

/// <summary>Reads the flags of one version requirement of an ELF64 library (independently of the build task that sets
/// them).</summary>
internal static class ElfVersionNeeds
{
    public static bool IsWeak(string path, string versionName)
    {
        var elf = File.ReadAllBytes(path);
        var shoff = (int)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A),
            shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + i * shentsize;
            if (BitConverter.ToUInt32(elf, sh + 4) != 0x6ffffffe)
                continue;
            var strtab = (int)
                BitConverter.ToUInt64(elf, shoff + (int)BitConverter.ToUInt32(elf, sh + 40) * shentsize + 24);
            var need = (int)BitConverter.ToUInt64(elf, sh + 24);
            for (var n = 0; n < BitConverter.ToUInt32(elf, sh + 44); n++)
            {
                var aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (var a = 0; a < BitConverter.ToUInt16(elf, need + 2); a++)
                {
                    var nameStart = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                    var name = Encoding.ASCII.GetString(
                        elf,
                        nameStart,
                        Array.IndexOf(elf, (byte)0, nameStart) - nameStart
                    );
                    if (name == versionName)
                        return (BitConverter.ToUInt16(elf, aux + 4) & 0x2) != 0;
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        throw new InvalidDataException($"{path} has no {versionName} requirement");
    }
}
