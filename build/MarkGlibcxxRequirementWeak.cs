using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on one version requirement (Elf64_Vernaux) in an ELF64 little-endian shared library.
public sealed class MarkGlibcxxRequirementWeak : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var result = Patch(path, VersionName);
                Log.LogMessage(MessageImportance.Normal, "{0}: {1}", path, result);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Log.LogError("Could not patch {0}: {1}", path, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    public static string Patch(string path, string versionName)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");

        var shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (var i = 0; i < shnum; i++)
        {
            var sh = (int)(shoff + (long)i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            var offset = (int)BitConverter.ToUInt64(elf, sh + 24);
            var link = (int)BitConverter.ToUInt32(elf, sh + 40);
            var count = (int)BitConverter.ToUInt32(elf, sh + 44);
            var strtab = (int)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize) + 24);

            var verneed = offset;
            for (var n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, verneed + 2);
                var aux = verneed + (int)BitConverter.ToUInt32(elf, verneed + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var name = ReadCString(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8));
                    if (name == versionName)
                    {
                        var flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0) return "already weak";
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, aux + 4);
                        File.WriteAllBytes(path, elf);
                        return "marked " + versionName + " weak";
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                verneed += (int)BitConverter.ToUInt32(elf, verneed + 12);
            }
        }
        return "no " + versionName + " requirement";
    }

    private static string ReadCString(byte[] data, int start)
    {
        var end = Array.IndexOf(data, (byte)0, start);
        return Encoding.ASCII.GetString(data, start, end - start);
    }
}
